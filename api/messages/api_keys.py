"""The machine API's refusals: API keys, their scopes and their rate limit."""

from __future__ import annotations

ZH: dict[str, str] = {
    "office.error.api_key_required": "需要 API 密钥（Authorization: Bearer …）或工作人员登录",
    "office.error.api_key_invalid": "API 密钥无效或已撤销",
    "office.error.api_scope_missing": "该 API 密钥没有 {scope} 权限",
    "office.error.api_scope_unknown": "未知的权限范围 {scope}（可用：{known}）",
    "office.error.api_scope_required": "至少需要一个权限范围（--scope）",
    "office.error.api_key_name": "名称须为 1 到 {limit} 个字母、数字或 . _ @ -，不含空格",
    "office.error.api_key_name_taken": "已有名为 {name} 的有效 API 密钥",
    "office.error.api_key_unknown": "没有名为 {name} 的有效 API 密钥",
    "office.error.api_rate_limited": "请求过于频繁，请 {seconds} 秒后再试",
    "office.error.api_key_compound": "小区编号 {compound} 无效（小写字母、数字、_ 或 -，至多 32 个）",
    "office.error.api_key_compounds_limit": "一个密钥至多绑定 {limit} 个小区",
    "office.error.hub_compound_refused": "该密钥未绑定小区 {compound}",
    "office.error.hub_body_invalid": "推送内容有误：{field}（{problem}）",
    "office.error.hub_item_invalid": "第 {index} 条记录有误：{field}（{problem}）",
    "office.error.hub_batch_too_large": "一次至多推送 {limit} 条记录",
    "office.error.hub_gap": "记录不连续：中心只收到序号 {expected_after} 为止，请从其后重发",
}

EN: dict[str, str] = {
    "office.error.api_key_required": (
        "An API key (Authorization: Bearer ...) or a staff sign-in is required"
    ),
    "office.error.api_key_invalid": "The API key is invalid or revoked",
    "office.error.api_scope_missing": "This API key does not have the {scope} scope",
    "office.error.api_scope_unknown": "Unknown scope {scope} (known: {known})",
    "office.error.api_scope_required": "At least one scope is required (--scope)",
    "office.error.api_key_name": (
        "A name is 1 to {limit} letters, digits or . _ @ -, without spaces"
    ),
    "office.error.api_key_name_taken": "A live API key named {name} exists already",
    "office.error.api_key_unknown": "There is no live API key named {name}",
    "office.error.api_rate_limited": "Too many requests; try again in {seconds} s",
    "office.error.api_key_compound": "Compound code {compound} is invalid (lower-case letters, digits, _ or -, at most 32)",
    "office.error.api_key_compounds_limit": "A key is bound to at most {limit} compounds",
    "office.error.hub_compound_refused": "This key is not bound to compound {compound}",
    "office.error.hub_body_invalid": "The push is malformed: {field} ({problem})",
    "office.error.hub_item_invalid": "Item {index} is malformed: {field} ({problem})",
    "office.error.hub_batch_too_large": "At most {limit} items in one push",
    "office.error.hub_gap": "A gap: the hub holds the compound up to seq {expected_after}; resend after it",
}
