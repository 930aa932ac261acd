"""Messages of the impact-assessment page (admin) and the enrolment refusal it lifts."""

ZH: dict[str, str] = {
    "office.nav.assessment": "影响评估",
    "assessment.title": "个人信息保护影响评估（人脸识别）",
    "assessment.why": (
        "处理人脸等敏感个人信息前，须事先进行个人信息保护影响评估并记录（《个人信息保护法》"
        "第五十五、五十六条），记录至少保存三年。登记评估之前，任何途径都不能录入人脸。"
    ),
    "assessment.none": "尚未登记影响评估：人脸录入已停用。",
    "assessment.in_force": "已登记影响评估（{on}，评估人 {by}），可以录入人脸。",
    "assessment.record": "登记影响评估",
    "assessment.on": "评估日期",
    "assessment.by": "评估人",
    "assessment.reference": "评估摘要或报告编号、存放位置",
    "assessment.scope": "评估范围（通道、人员范围、保存的数据及期限）",
    "assessment.history": "评估记录",
    "assessment.recorded": "{at} 由 {by} 登记",
    "faces.assessment.missing": "尚未登记个人信息保护影响评估：管理员登记后才能录入人脸。",
    "office.done.assessment_recorded": "已登记影响评估，可以录入人脸",
    "office.field.assessed_on": "评估日期",
    "office.field.assessed_by": "评估人",
    "office.field.reference": "评估摘要或报告编号",
    "office.field.scope": "评估范围",
    "office.error.face_assessment_missing": (
        "尚未登记个人信息保护影响评估：请管理员在「影响评估」页面登记后再录入人脸"
    ),
    "office.error.face_assessment_future": "评估日期不能晚于今天",
}

EN: dict[str, str] = {
    "office.nav.assessment": "Impact assessment",
    "assessment.title": "Personal-information impact assessment (face recognition)",
    "assessment.why": (
        "Processing sensitive personal information such as faces needs a personal-"
        "information impact assessment beforehand, and its record (PIPL Art. 55-56), kept "
        "for at least three years. Until one is recorded no face can be enrolled, by any path."
    ),
    "assessment.none": "No impact assessment recorded: face enrolment is disabled.",
    "assessment.in_force": "Impact assessment on file ({on}, by {by}): faces may be enrolled.",
    "assessment.record": "Record the impact assessment",
    "assessment.on": "Assessed on",
    "assessment.by": "Assessed by",
    "assessment.reference": "Summary, or the report's number and where it is kept",
    "assessment.scope": "Scope (lanes, who, what is stored and for how long)",
    "assessment.history": "Assessments on file",
    "assessment.recorded": "recorded {at} by {by}",
    "faces.assessment.missing": (
        "No personal-information impact assessment recorded: an admin records it before "
        "faces can be enrolled."
    ),
    "office.done.assessment_recorded": "Impact assessment recorded: faces may be enrolled",
    "office.field.assessed_on": "Assessed on",
    "office.field.assessed_by": "Assessed by",
    "office.field.reference": "Summary or report number",
    "office.field.scope": "Scope",
    "office.error.face_assessment_missing": (
        "No personal-information impact assessment recorded: an admin records it on the "
        "Impact assessment page before faces can be enrolled"
    ),
    "office.error.face_assessment_future": "The assessment cannot be dated after today",
}
