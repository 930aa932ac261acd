"""Messages of an import refused for its file as a whole: the codes ``ImportProblem`` carries.

Keyed ``office.io.file.<reason>``; the import page shows these in the page's language
(row problems keep their own messages). ``{limit_mib}`` and ``{size_mib}`` are the byte
parameters in MiB.
"""

ZH: dict[str, str] = {
    "office.io.file.archive_too_large": "XLSX 解压后超过 {limit_mib} MiB 的上限，疑似压缩炸弹，未导入。",
    "office.io.file.archive_too_many_members": "XLSX 含 {members} 个部件，超过 {limit} 个的上限，未导入。",
    "office.io.file.archive_ratio": "XLSX 的压缩比 {ratio}:1 超过 {limit}:1 的上限，疑似压缩炸弹，未导入。",
    "office.io.file.archive_inconsistent": "XLSX 中的部件大小与声明不符，文件已损坏或被篡改，未导入。",
    "office.io.file.import_memory": "解析该文件所需内存超过 {limit_mib} MiB 的上限，未导入；请删去多余的工作表或超长的单元格后重试。",
    "office.io.file.import_timeout": "解析该文件超过 {limit} 秒的上限，未导入。",
    "office.io.file.import_failed": "无法解析该文件，未导入；请用导入模板另存后重试。",
    "office.io.file.malformed_file": "文件已损坏或不是有效的 XLSX/CSV 文件。",
    "office.io.file.more_problems": "另有 {count} 个问题未列出。",
}

EN: dict[str, str] = {
    "office.io.file.archive_too_large": "The XLSX inflates past the {limit_mib} MiB limit (a zip bomb?); nothing was imported.",
    "office.io.file.archive_too_many_members": "The XLSX holds {members} parts, more than the limit of {limit}; nothing was imported.",
    "office.io.file.archive_ratio": "The XLSX is compressed {ratio}:1, past the {limit}:1 limit (a zip bomb?); nothing was imported.",
    "office.io.file.archive_inconsistent": "A part of the XLSX is not the size it declares: the file is damaged or tampered with; nothing was imported.",
    "office.io.file.import_memory": "Reading this file needs more than the {limit_mib} MiB limit; nothing was imported. Remove extra sheets or overlong cells and try again.",
    "office.io.file.import_timeout": "Reading this file took longer than the {limit} s limit; nothing was imported.",
    "office.io.file.import_failed": "This file could not be read; nothing was imported. Save it again from the template and retry.",
    "office.io.file.malformed_file": "The file is damaged or not a valid XLSX/CSV file.",
    "office.io.file.more_problems": "{count} more problem(s) not listed.",
}
