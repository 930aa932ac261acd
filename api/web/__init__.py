"""Server-rendered pages: the guard terminal and the office, behind staff sessions."""
