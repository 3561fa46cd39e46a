"""The FileType code table (DataWorks node types), with English and Chinese names."""

from __future__ import annotations

from typing import NamedTuple

from .errors import Invalid

__all__ = ["FILE_TYPES", "LOCALES", "SQL_TYPES", "FileType", "is_known", "localized"]


class FileType(NamedTuple):
    code: int
    type_name: str
    name_en: str
    name_zh: str


_TABLE: tuple[tuple[int, str, str, str], ...] = (
    (6, "DIDE_SHELL", "Shell", "Shell"),
    (10, "ODPS_SQL", "ODPS SQL", "ODPS SQL"),
    (11, "ODPS_MR", "ODPS MR", "ODPS MR"),
    (12, "ODPS_PYTHON", "MaxCompute Python resource", "MaxCompute Python资源"),
    (13, "ODPS_JAR", "MaxCompute JAR resource", "MaxCompute JAR资源"),
    (14, "ODPS_ARCHIVE", "MaxCompute archive resource", "MaxCompute Archive资源"),
    (15, "ODPS_FILE", "MaxCompute file resource", "MaxCompute File资源"),
    (17, "ODPS_FUNCTION", "MaxCompute function", "MaxCompute函数"),
    (19, "CHECK", "Check node", "Check节点"),
    (23, "DI", "Batch synchronization", "离线同步"),
    (24, "ODPS_SQL_SCRIPT", "ODPS Script", "ODPS Script"),
    (97, "PAI", "PAI", "PAI"),
    (98, "COMBINED_NODE", "Node group", "组合节点"),
    (99, "VIRTUAL", "Zero-load node", "虚拟节点"),
    (221, "PY_ODPS", "PyODPS 2", "PyODPS 2"),
    (225, "ODPS_SPARK", "ODPS Spark", "ODPS Spark"),
    (227, "EMR_HIVE", "EMR Hive", "EMR Hive"),
    (228, "EMR_SPARK", "EMR Spark", "EMR Spark"),
    (229, "EMR_SPARK_SQL", "EMR Spark SQL", "EMR Spark SQL"),
    (230, "EMR_MR", "EMR MR", "EMR MR"),
    (239, "OSS_INSPECT", "OSS object inspection", "OSS对象检查"),
    (257, "EMR_SHELL", "EMR Shell", "EMR Shell"),
    (258, "EMR_SPARK_SHELL", "EMR Spark Shell", "EMR Spark Shell"),
    (259, "EMR_PRESTO", "EMR Presto", "EMR Presto"),
    (260, "EMR_IMPALA", "EMR Impala", "EMR Impala"),
    (264, "EMR_SPARK_STREAMING", "EMR Spark Streaming", "EMR Spark Streaming"),
    (267, "EMR_TRINO", "EMR Trino", "EMR Trino"),
    (268, "EMR_KYUUBI", "EMR Kyuubi", "EMR Kyuubi"),
    (900, "RI", "Real-time synchronization", "实时同步"),
    (1002, "PAI_INNER", "PAI inner node", "PAI内部节点"),
    (1010, "COMPONENT_SQL", "SQL component", "SQL组件"),
    (1089, "CROSS_TENANTS", "Cross-tenant collaboration", "跨租户节点"),
    (1091, "HOLOGRES_DEVELOP", "Hologres development", "Hologres开发"),
    (1093, "HOLOGRES_SQL", "Hologres SQL", "Hologres SQL"),
    (1100, "CONTROLLER_ASSIGNMENT", "Assignment", "赋值节点"),
    (1101, "CONTROLLER_BRANCH", "Branch", "分支节点"),
    (1102, "CONTROLLER_JOIN", "Merge", "归并节点"),
    (1103, "CONTROLLER_CYCLE", "Do-while", "do-while"),
    (1104, "CONTROLLER_CYCLE_START", "Do-while start", "do-while开始"),
    (1105, "CONTROLLER_CYCLE_END", "Do-while end", "do-while结束"),
    (1106, "CONTROLLER_TRAVERSE", "For-each", "for-each"),
    (1107, "CONTROLLER_TRAVERSE_START", "For-each start", "for-each开始"),
    (1108, "CONTROLLER_TRAVERSE_END", "For-each end", "for-each结束"),
    (1221, "PYTHON3", "PyODPS 3", "PyODPS 3"),
)

FILE_TYPES: dict[int, FileType] = {row[0]: FileType(*row) for row in _TABLE}

# Types whose content is SQL (used by parsing and checks).
SQL_TYPES = frozenset({10, 24, 227, 229, 259, 260, 267, 268, 1093})


def is_known(code: int) -> bool:
    return code in FILE_TYPES


# Accepted Locale spellings → whether names are Chinese. DataWorks documents zh-CN/en-US.
LOCALES = {"zh-cn": True, "zh_cn": True, "zh": True, "en-us": False, "en_us": False, "en": False}
DEFAULT_LOCALE = "zh-CN"


def localized(locale: str | None, keyword: str | None = None) -> list[tuple[int, str]]:
    """(code, name) of every type in the locale's language, filtered by a name fragment."""
    chinese = LOCALES.get((locale or DEFAULT_LOCALE).strip().lower())
    if chinese is None:
        raise Invalid("Invalid.Param", f"Locale must be zh-CN or en-US, not {locale!r}.")
    rows = [(t.code, t.name_zh if chinese else t.name_en) for t in FILE_TYPES.values()]
    if keyword:
        rows = [r for r in rows if keyword.strip().lower() in r[1].lower()]
    return rows
