"""Faces: the dlib models, detection and encoding in worker processes, exact 1:N matching."""
