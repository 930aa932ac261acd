"""Messages of the person page's face section (consent, enrolment, withdrawal) and the
refusals of ``gate.app.faces``."""

ZH: dict[str, str] = {
    "faces.title": "人脸识别",
    "faces.optional": "自愿开通：不开通也可刷身份证或出示二维码通行，二者同样快捷。",
    "faces.notice": (
        "告知（第 {version} 版）：人脸图像仅用于本小区门岗通行核验，特征数据加密保存在本机，"
        "不上传、不导出、不提供给街道或任何第三方；刷脸只是通行方式之一；"
        "可随时撤回同意，撤回后全部人脸数据立即删除。不满十四周岁须由监护人同意。"
    ),
    "faces.notice_version": "告知版本",
    "faces.consent.none": "尚未登记单独同意，不能录入人脸。",
    "faces.consent.in_force": "已同意：{by}{guardian}，{at} 由 {recorder} 登记（告知第 {version} 版）",
    "faces.consent.guardian_mark": "（监护人）",
    "faces.consent.record": "登记单独同意",
    "faces.consent.by": "同意人",
    "faces.consent.by_hint": "本人姓名，或监护人姓名及关系",
    "faces.consent.guardian": "由监护人代为同意",
    "faces.consent.guardian_needed": "此人未满十四周岁：须由监护人同意并勾选此项。",
    "faces.enrol.title": "录入照片",
    "faces.enrol.hint": "正脸、光线均匀、只有一人；JPEG 或 PNG，不超过 {mb} MB。可录入多张。",
    "faces.enrol.photo": "照片",
    "faces.enrol.upload": "上传并录入",
    "faces.enrol.capture": "用 {lane} 通道摄像头拍摄录入",
    "faces.enrol.no_camera": "没有配置通道摄像头。",
    "faces.templates": "已录入人脸",
    "faces.templates.none": "尚未录入人脸。",
    "faces.templates.source.upload": "上传",
    "faces.templates.source.camera": "摄像头",
    "faces.templates.source.cli": "命令行",
    "faces.templates.quality": "眼距 {face_px} 像素 · 清晰度 {sharpness} · 偏转 {turn}",
    "faces.withdraw": "撤回同意并删除全部人脸数据",
    "faces.withdraw_confirm": "撤回后此人的全部人脸数据立即删除，确定吗？",
    "faces.history": "同意记录",
    "faces.history.withdrawn": "{at} 由 {by} 撤回",
    "office.done.face_consented": "已登记单独同意",
    "office.done.face_enrolled": "已录入人脸",
    "office.done.face_withdrawn": "已撤回同意，全部人脸数据已删除",
    "office.field.consented_by": "同意人",
    "office.field.notice_version": "告知版本",
    "office.field.source": "来源",
    "office.error.face_guardian_required": "此人未满 {age} 周岁：须由监护人同意（勾选“由监护人代为同意”）",
    "office.error.face_consent_in_force": "此人已有有效的同意",
    "office.error.face_no_consent": "此人尚未登记单独同意：请先登记同意，再录入人脸",
    "office.error.face_moved_out": "此人已迁出，不能开通刷脸",
    "office.error.face_no_camera": "通道 {lane} 没有摄像头",
    "office.error.face_no_frame": "通道 {lane} 的摄像头暂时没有画面，请稍后再试",
    "office.error.face_no_file": "请选择一张照片",
    "office.error.face_no_face": "照片中没有找到人脸，请换一张正脸照片",
    "office.error.face_several_faces": "照片中有 {faces} 张人脸，只能有本人一人",
    "office.error.face_too_small": "人脸太小（眼距 {face_px} 像素，至少 {limit}）：请靠近拍摄或用更清晰的照片",
    "office.error.face_blurred": "照片模糊（清晰度 {sharpness}，至少 {limit}）：请对焦后重拍",
    "office.error.face_not_frontal": "脸部偏转过大（{turn}，至多 {limit}）：请正对镜头",
    "office.error.face_not_an_image": "文件不是图片：请上传 JPEG 或 PNG 照片",
    "office.error.face_damaged": "图片已损坏，无法读取：请重新上传",
    "office.error.face_too_large": "文件太大：照片不能超过 {limit_mb} MB",
    "office.error.face_too_many_pixels": "图片像素过多（{pixels}，至多 {limit}）：请缩小后上传",
    "office.error.face_alpha_channel": "图片含透明区域：请上传不透明的照片（如 JPEG）",
}

EN: dict[str, str] = {
    "faces.title": "Face recognition",
    "faces.optional": (
        "Opt-in: without it the ID card or the QR pass work just as well and just as fast."
    ),
    "faces.notice": (
        "Notice (version {version}): face images are used only to check passages at this "
        "compound's gate; templates are stored encrypted on this machine, never uploaded, "
        "exported or given to the district or anyone else; the face is one way in among "
        "others; consent can be withdrawn at any time and every face record is then deleted "
        "at once. Under 14, a guardian consents."
    ),
    "faces.notice_version": "Notice version",
    "faces.consent.none": "No separate consent recorded: no face can be enrolled.",
    "faces.consent.in_force": (
        "Consented: {by}{guardian}, recorded {at} by {recorder} (notice version {version})"
    ),
    "faces.consent.guardian_mark": " (guardian)",
    "faces.consent.record": "Record separate consent",
    "faces.consent.by": "Consented by",
    "faces.consent.by_hint": "The person's name, or the guardian's and how related",
    "faces.consent.guardian": "A guardian consents for them",
    "faces.consent.guardian_needed": "Under 14: a guardian must consent (tick the box).",
    "faces.enrol.title": "Enrol a photo",
    "faces.enrol.hint": (
        "Frontal, even light, one person only; JPEG or PNG up to {mb} MB. Several may be enrolled."
    ),
    "faces.enrol.photo": "Photo",
    "faces.enrol.upload": "Upload and enrol",
    "faces.enrol.capture": "Capture from the {lane} lane camera",
    "faces.enrol.no_camera": "No lane camera is configured.",
    "faces.templates": "Enrolled faces",
    "faces.templates.none": "No face enrolled yet.",
    "faces.templates.source.upload": "upload",
    "faces.templates.source.camera": "camera",
    "faces.templates.source.cli": "command line",
    "faces.templates.quality": "eyes {face_px} px · sharpness {sharpness} · turn {turn}",
    "faces.withdraw": "Withdraw consent and delete every face record",
    "faces.withdraw_confirm": "Every face record of this person is deleted at once. Go ahead?",
    "faces.history": "Consent history",
    "faces.history.withdrawn": "withdrawn {at} by {by}",
    "office.done.face_consented": "Separate consent recorded",
    "office.done.face_enrolled": "Face enrolled",
    "office.done.face_withdrawn": "Consent withdrawn; every face record deleted",
    "office.field.consented_by": "Consented by",
    "office.field.notice_version": "Notice version",
    "office.field.source": "Source",
    "office.error.face_guardian_required": (
        "Under {age}: a guardian must consent (tick 'A guardian consents for them')"
    ),
    "office.error.face_consent_in_force": "This person's consent is already in force",
    "office.error.face_no_consent": (
        "No separate consent recorded: record the consent first, then enrol the face"
    ),
    "office.error.face_moved_out": "This person has moved out",
    "office.error.face_no_camera": "Lane {lane} has no camera",
    "office.error.face_no_frame": "Lane {lane}'s camera has no picture right now; try again",
    "office.error.face_no_file": "Choose a photo",
    "office.error.face_no_face": "No face found in the photo; use a frontal photo",
    "office.error.face_several_faces": "{faces} faces in the photo; only the person may be in it",
    "office.error.face_too_small": (
        "The face is too small ({face_px} px between the eyes, at least {limit}): "
        "come closer or use a sharper photo"
    ),
    "office.error.face_blurred": (
        "The photo is blurred (sharpness {sharpness}, at least {limit}): focus and take it again"
    ),
    "office.error.face_not_frontal": (
        "The face is turned too far ({turn}, at most {limit}): face the camera"
    ),
    "office.error.face_not_an_image": "The file is not a picture: upload a JPEG or PNG photo",
    "office.error.face_damaged": "The picture is damaged and cannot be read: upload it again",
    "office.error.face_too_large": "The file is too large: a photo is at most {limit_mb} MB",
    "office.error.face_too_many_pixels": (
        "The picture has too many pixels ({pixels}, at most {limit}): make it smaller"
    ),
    "office.error.face_alpha_channel": (
        "The picture has transparent areas: upload an opaque photo (a JPEG)"
    ),
}
