"""The one message catalogue of the web app: Chinese first, English by a switch.

Reasons travel as codes with parameters (``quarantine_no_exit``, ``{"until": ...}``) and
become sentences only here, at the screen. A missing key shows the key itself, and a
test checks that both languages know every key.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from gate.status import LOCAL_TZ

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"

MESSAGES: dict[str, dict[str, str]] = {
    "zh": {
        "app.title": "小区出入口",
        "nav.terminal": "门岗",
        "nav.office": "住户管理",
        "nav.round": "每日巡查",
        "nav.rules": "规则",
        "nav.audit": "审计",
        "nav.report": "交班报表",
        "nav.logout": "退出",
        "lang.switch": "English",
        "login.title": "登录",
        "login.username": "用户名",
        "login.password": "密码",
        "login.submit": "登录",
        "login.refused.bad_credentials": "用户名或密码错误",
        "login.refused.locked": "登录失败次数过多，账号已锁定 15 分钟",
        "login.refused.revoked": "该账号已停用",
        "unlock.title": "屏幕已锁定",
        "unlock.pin": "PIN 码",
        "unlock.submit": "解锁",
        "unlock.refused": "PIN 码错误",
        "error.forbidden": "没有权限",
        "error.csrf": "表单已过期，请刷新页面后重试",
        "error.too_large": "提交的内容太大",
        "error.not_found": "未找到",
        "terminal.feed": "通行记录",
        "terminal.waiting": "等待通行……",
        "terminal.alerts": "待处理",
        "terminal.no_alerts": "无待处理事项",
        "terminal.search": "查找人员（姓名、房号、证件后四位）",
        "terminal.search.button": "查找",
        "terminal.occupancy": "在内 {inside} 人 · 外出 {outside} 人",
        "terminal.quarantined_outside": "隔离人员在外：{count}",
        "terminal.devices": "设备",
        "terminal.connection_lost": "连接中断，正在重连……",
        "device.id_reader": "身份证读卡器",
        "device.qr_scanner": "扫码器",
        "device.camera": "摄像头",
        "device.barrier": "道闸",
        "device.thermometer": "测温",
        "device.state.ok": "正常",
        "device.state.degraded": "异常",
        "device.state.offline": "离线",
        "device.none": "未接设备",
        "outcome.allow": "放行",
        "outcome.deny": "禁止",
        "outcome.review": "待核查",
        "direction.in": "进",
        "direction.out": "出",
        "credential.id_card": "刷身份证",
        "credential.qr_pass": "扫码",
        "credential.face": "人脸",
        "credential.manual": "人工录入",
        "identity.registered": "住户",
        "identity.visitor": "访客",
        "identity.outsider": "外来人员",
        "kind.resident": "居民",
        "kind.tenant": "租户",
        "kind.staff": "工作人员",
        "action.admit": "放行 (A)",
        "action.deny": "禁止 (D)",
        "action.register_visitor": "登记访客 (V)",
        "action.cancel": "取消",
        "action.confirm": "确认",
        "override.title": "人工处理",
        "override.reason": "原因",
        "override.text": "说明（必填）",
        "override.done": "已处理：{outcome}（{guard}）",
        "override.reason.identity_confirmed": "已核实身份",
        "override.reason.work_certificate": "持复工证明",
        "override.reason.medical_visit": "就医",
        "override.reason.emergency": "紧急情况",
        "override.reason.visitor_registered": "已登记访客",
        "override.reason.delivery": "送货/快递",
        "override.reason.staff_duty": "工作人员执勤",
        "override.reason.refused": "不予通行",
        "override.reason.other": "其他",
        "override.error.text_required": "请填写说明",
        "visitor.title": "登记访客",
        "visitor.name": "访客姓名",
        "visitor.doc_type": "证件类型",
        "visitor.number": "证件号码",
        "visitor.from_card": "证件信息取自刷卡（{masked}）",
        "visitor.host": "被访住户（楼栋-单元-房号）",
        "visitor.reason": "来访事由",
        "visitor.hours": "有效时长（小时）",
        "visitor.done": "访客已登记，{until} 前可进出",
        "search.none": "没有找到",
        "search.today": "今日通行",
        "search.exemptions": "豁免",
        "status.normal": "正常",
        "status.home_quarantine": "居家隔离",
        "status.centralized_quarantine": "集中隔离",
        "status.health_monitoring": "健康监测",
        "status.key_person": "重点人员",
        "reason.registered": "登记住户，状态正常",
        "reason.visitor": "登记访客，在有效期内（至 {until}）",
        "reason.visitor_overstay": "访客超过有效期离开（有效期至 {until}）",
        "reason.visitor_outside_window": "访客不在有效期内（{from} 至 {until}）",
        "reason.quarantine_no_exit": "居家/集中隔离人员，不得外出（隔离至 {until}）",
        "reason.quarantine_returning": "隔离人员从外面返回，请通知楼栋长",
        "reason.health_monitoring": "健康监测人员，放行并记录",
        "reason.key_person": "重点人员，请核查",
        "reason.outsider": "非本小区登记人员，请核实或登记访客",
        "reason.household_quota": "本户 {period_hours} 小时内已外出 {used} 人次（限 {allowed} 次），下次可外出时间 {next_at}",
        "reason.curfew": "{start}-{end} 禁止{direction}",
        "reason.fever": "体温 {temperature}℃ 超过 {threshold}℃，请复测",
        "reason.passback": "记录显示此人已{presence}，请核实",
        "reason.card_expired": "身份证已过期（有效期至 {valid_to}）",
        "reason.exempted": "已豁免 {rule}：{exemption}",
        "reason.unknown_lane": "未配置的通道",
        "reason.malformed_credential": "证件信息无法识别：{detail}",
        "reason.log_unavailable": "记录写入失败，道闸保持关闭，请人工登记",
        "reason.override": "门卫处理：{code}（{text}）",
        "reason.soft": "（仅提示）",
        "presence.inside": "在小区内",
        "presence.outside": "在小区外",
        "report.title": "交班报表",
        "report.from": "自",
        "report.to": "至",
        "report.by_outcome": "按结果统计",
        "report.overrides": "人工处理",
        "report.alerts": "告警及处理",
        "report.unhandled": "未处理",
        "report.xlsx": "导出 Excel",
        "report.print": "打印",
    },
    "en": {
        "app.title": "Compound gate",
        "nav.terminal": "Gate",
        "nav.office": "Residents",
        "nav.round": "Daily round",
        "nav.rules": "Rules",
        "nav.audit": "Audit",
        "nav.report": "Shift report",
        "nav.logout": "Log out",
        "lang.switch": "中文",
        "login.title": "Sign in",
        "login.username": "User name",
        "login.password": "Password",
        "login.submit": "Sign in",
        "login.refused.bad_credentials": "Wrong user name or password",
        "login.refused.locked": "Too many failed attempts; the account is locked for 15 minutes",
        "login.refused.revoked": "This account has been disabled",
        "unlock.title": "Screen locked",
        "unlock.pin": "PIN",
        "unlock.submit": "Unlock",
        "unlock.refused": "Wrong PIN",
        "error.forbidden": "Not allowed",
        "error.csrf": "The form has expired; reload the page and try again",
        "error.too_large": "The request is too large",
        "error.not_found": "Not found",
        "terminal.feed": "Passages",
        "terminal.waiting": "Waiting for passages…",
        "terminal.alerts": "To handle",
        "terminal.no_alerts": "Nothing to handle",
        "terminal.search": "Find a person (name, room, last 4 of the ID)",
        "terminal.search.button": "Find",
        "terminal.occupancy": "{inside} inside · {outside} out",
        "terminal.quarantined_outside": "Quarantined outside: {count}",
        "terminal.devices": "Devices",
        "terminal.connection_lost": "Connection lost, reconnecting…",
        "device.id_reader": "ID reader",
        "device.qr_scanner": "QR scanner",
        "device.camera": "Camera",
        "device.barrier": "Barrier",
        "device.thermometer": "Thermometer",
        "device.state.ok": "ok",
        "device.state.degraded": "degraded",
        "device.state.offline": "offline",
        "device.none": "no devices",
        "outcome.allow": "Allowed",
        "outcome.deny": "Denied",
        "outcome.review": "Review",
        "direction.in": "In",
        "direction.out": "Out",
        "credential.id_card": "ID card",
        "credential.qr_pass": "QR pass",
        "credential.face": "Face",
        "credential.manual": "Typed",
        "identity.registered": "Resident",
        "identity.visitor": "Visitor",
        "identity.outsider": "Outsider",
        "kind.resident": "resident",
        "kind.tenant": "tenant",
        "kind.staff": "staff",
        "action.admit": "Admit (A)",
        "action.deny": "Deny (D)",
        "action.register_visitor": "Register visitor (V)",
        "action.cancel": "Cancel",
        "action.confirm": "Confirm",
        "override.title": "Decide",
        "override.reason": "Reason",
        "override.text": "Note (required)",
        "override.done": "Handled: {outcome} ({guard})",
        "override.reason.identity_confirmed": "Identity confirmed",
        "override.reason.work_certificate": "Work certificate",
        "override.reason.medical_visit": "Medical visit",
        "override.reason.emergency": "Emergency",
        "override.reason.visitor_registered": "Visitor registered",
        "override.reason.delivery": "Delivery",
        "override.reason.staff_duty": "Staff on duty",
        "override.reason.refused": "Refused",
        "override.reason.other": "Other",
        "override.error.text_required": "Please write a note",
        "visitor.title": "Register visitor",
        "visitor.name": "Visitor's name",
        "visitor.doc_type": "Document type",
        "visitor.number": "Document number",
        "visitor.from_card": "Document from the card swipe ({masked})",
        "visitor.host": "Host household (building-unit-room)",
        "visitor.reason": "Reason for the visit",
        "visitor.hours": "Valid for (hours)",
        "visitor.done": "Visitor registered; may come and go until {until}",
        "search.none": "Nobody found",
        "search.today": "Passages today",
        "search.exemptions": "Exemptions",
        "status.normal": "normal",
        "status.home_quarantine": "home quarantine",
        "status.centralized_quarantine": "centralized quarantine",
        "status.health_monitoring": "health monitoring",
        "status.key_person": "key person",
        "reason.registered": "Registered resident, normal status",
        "reason.visitor": "Registered visitor, within the window (until {until})",
        "reason.visitor_overstay": "Visitor leaving after the window (until {until})",
        "reason.visitor_outside_window": "Visitor outside the window ({from} to {until})",
        "reason.quarantine_no_exit": "In quarantine, may not leave (until {until})",
        "reason.quarantine_returning": "Quarantined person coming back in; tell the building head",
        "reason.health_monitoring": "Under health monitoring: let through and noted",
        "reason.key_person": "Key person: please check",
        "reason.outsider": "Not registered here: check, or register as a visitor",
        "reason.household_quota": "Household used {used} of {allowed} outings in {period_hours} h; next from {next_at}",
        "reason.curfew": "No passage {direction} between {start} and {end}",
        "reason.fever": "Temperature {temperature} °C is at or above {threshold} °C: measure again",
        "reason.passback": "The log says this person is already {presence}: please check",
        "reason.card_expired": "ID card expired on {valid_to}",
        "reason.exempted": "Exempted from {rule}: {exemption}",
        "reason.unknown_lane": "Lane not configured",
        "reason.malformed_credential": "Credential cannot be read: {detail}",
        "reason.log_unavailable": "The log could not be written; barrier kept shut, register by hand",
        "reason.override": "Decided by the guard: {code} ({text})",
        "reason.soft": " (flag only)",
        "presence.inside": "inside",
        "presence.outside": "outside",
        "report.title": "Shift report",
        "report.from": "From",
        "report.to": "To",
        "report.by_outcome": "By outcome",
        "report.overrides": "Guard decisions",
        "report.alerts": "Alerts and how they were handled",
        "report.unhandled": "not handled",
        "report.xlsx": "Export XLSX",
        "report.print": "Print",
    },
}


class _Defaulting(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def t(lang: str, key: str, **params: Any) -> str:
    """The message ``key`` in ``lang`` with ``params`` filled in."""
    catalogue = MESSAGES.get(lang, MESSAGES[DEFAULT_LANGUAGE])
    template = catalogue.get(key, key)
    return template.format_map(_Defaulting({k: _display(lang, k, v) for k, v in params.items()}))


def _display(lang: str, key: str, value: Any) -> Any:
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and "T" in value:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
        local = moment.astimezone(LOCAL_TZ)
        if key == "until" and (local.hour, local.minute, local.second) == (0, 0, 0):
            # Ends are exclusive midnights: "until 12-12 00:00" reads as "through 12-11".
            return (local - timedelta(days=1)).strftime("%m-%d")
        return local.strftime("%m-%d %H:%M")
    if value is None:
        return "—" if key != "until" else ("待定" if lang == "zh" else "further notice")
    if key == "presence":
        return t(lang, f"presence.{value}")
    if key == "direction":
        return t(lang, f"direction.{value}") if value else ""
    if key == "code":
        return t(lang, f"override.reason.{value}")
    return value


def reason_text(lang: str, code: str, params: dict[str, Any]) -> str:
    """A decision reason as a sentence for the guard."""
    text = t(lang, f"reason.{code}", **params)
    if params.get("soft"):
        text += t(lang, "reason.soft")
    return text
