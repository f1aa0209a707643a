"""Chinese labels for the codes stored in events (see /work/shared/GLOSSARY.md).

English output shows the codes themselves (stable, machine-friendly); Chinese output shows
these labels. A code missing here is shown as it is rather than failing an export.
"""

from __future__ import annotations

ZH: dict[str, dict[str, str]] = {
    "state": {
        "found": "已发现", "notified": "已通知", "rectifying.in_progress": "整改中",
        "rectifying.awaiting_verification": "待复查", "escalated": "已移交部门",
        "closed": "已销号",
    },
    "category": {
        "flying_wire_charging": "飞线充电", "blocked_fire_exit": "消防通道堵塞",
        "fire_equipment": "消防器材缺失或过期", "illegal_wiring": "私拉乱接",
        "flammable_storage": "易燃物品存放", "gas_safety": "燃气安全",
        "mixed_residential_production": "三合一", "unreported_small_works": "零星工程未报备",
        "other": "其他",
    },
    "severity": {"general": "一般隐患", "major": "重大隐患"},
    "place_kind": {
        "enterprise": "企业", "rental_house": "出租屋", "small_venue": "三小场所",
        "crowded_place": "人员密集场所", "construction_site": "零星工程", "other": "其他",
    },
    "department": {
        "fire": "消防", "emergency_management": "应急管理", "urban_management": "城管",
        "market_regulation": "市场监管", "housing": "住建", "public_security": "公安",
    },
    "closing_reason": {
        "rectified": "整改到位", "enforced": "执法处理", "unfounded": "不构成隐患",
        "duplicate": "重复上报",
    },
    "trigger": {
        "report": "上报", "notify": "下达整改通知", "start_rectification": "开始整改",
        "submit_rectification": "提交整改", "verify": "复查验收", "refuse": "拒不整改",
        "escalate": "移交部门", "accept_escalation": "部门受理", "record_enforcement": "执法记录",
        "order_rectification": "责令整改", "close": "结案", "dismiss": "不予立案",
        "reopen": "复发", "extend_deadline": "延期", "comment": "批示/备注",
        "attach_evidence": "补充证据", "move_place": "随场所调整网格",
        "remind_deadline": "期限提醒", "miss_deadline": "逾期未整改",
        "flag_verification_overdue": "复查超时", "raise_escalation_level": "督办升级",
        "list_supervised": "挂牌督办",
    },
    "escalation_status": {
        "awaiting_acceptance": "待受理", "accepted": "已受理", "in_enforcement": "执法中",
        "returned_for_rectification": "责令整改中", "closed": "已结案",
    },
    "escalation_cause": {
        "refused": "拒不整改", "deadline_missed": "逾期未整改", "major_hazard": "重大隐患",
        "by_hand": "人工移交",
    },
    "escalation_level": {
        "community_safety_office": "社区安全办", "street_safety_office": "街道安监办",
        "department": "职能部门",
    },
    "role": {
        "grid_worker": "网格员", "volunteer": "党员志愿者", "property_staff": "物业人员",
        "safety_officer": "安全员", "inspector": "核查员", "street_supervisor": "安监办",
        "department_officer": "职能部门", "leader": "分管领导", "auditor": "审计",
        "admin": "管理员", "system": "系统", "party": "责任主体",
    },
    "account_status": {"active": "有效", "revoked": "已停用"},
    "grade": {"red": "红", "yellow": "黄", "green": "绿"},
    "measure": {"warning": "警告", "fine": "罚款", "seal_up": "查封", "suspension": "责令停产停业"},
    "level": {"street": "街道", "community": "社区", "grid": "网格", "department": "职能部门",
              "actor": "个人"},
}


# The ledger's enforcement summary: entries "measure decision-number amount" joined by "; ".
ENTRIES, ENTRY_PARTS = "; ", " "


def label(vocab: str, code: str, lang: str) -> str:
    if lang != "zh":
        return code
    if vocab == "enforcement":  # each entry's leading measure code
        return ENTRIES.join(
            ENTRY_PARTS.join([label("measure", head, lang), *rest])
            for head, *rest in (entry.split(ENTRY_PARTS) for entry in code.split(ENTRIES)))
    return ZH.get(vocab, {}).get(code, code)
