"""The public report page's words: Simplified Chinese by default, English on ?lang=en."""

from __future__ import annotations

WORDS: dict[str, dict[str, str]] = {
    "zh-CN": {
        "title": "低保监督举报",
        "intro": "对低保办理中的违规、优亲厚友、骗取低保等问题，可以在这里举报。"
                 "可以匿名举报。我们会及时核实、处理并答复。",
        "township": "向哪个乡镇（街道）举报",
        "choose": "请选择",
        "about": "举报对象（姓名、村/社区，可不填）",
        "content": "举报内容（必填，最多 2000 字）",
        "anonymous": "匿名举报（不留姓名）",
        "name": "您的姓名",
        "contact": "联系方式（电话、邮箱或微信号，答复用）",
        "reply_channel": "希望怎样收到答复",
        "reply.phone": "电话", "reply.email": "电子邮件", "reply.wechat": "微信",
        "reply.letter": "书面信件", "reply.window": "到乡镇窗口查询", "reply.none": "不需要答复",
        "privacy": "您的姓名和联系方式只有承办人和县级监督人员能看到。本页面不保存您的网络地址。",
        "submit": "提交举报",
        "large": "大字",
        "sending": "正在提交……",
        "done": "已收到您的举报。编号：{number}。请记下编号，答复期限：{due} 前。",
        "error.validation-failed": "有内容没有填好，请检查后再提交。",
        "error.too-many-requests": "提交太频繁，请稍后再试。",
        "error.body-too-large": "内容太长，请删减后再提交。",
        "error.other": "提交没有成功，请稍后再试，或拨打乡镇公开监督举报电话。",
        "error.content": "请填写举报内容。",
        "error.township": "请选择乡镇（街道）。",
        "other_lang": "English",
        "other_lang_href": "/report?lang=en",
    },
    "en": {
        "title": "Report a minimum-allowance concern",
        "intro": "Report rule-breaking, favouritism or fraud in minimum living allowances. "
                 "You may stay anonymous. Reports are verified, handled and answered promptly.",
        "township": "Township the report goes to",
        "choose": "Choose",
        "about": "Whom or what it is about (name, village; optional)",
        "content": "What happened (required, at most 2000 characters)",
        "anonymous": "Report anonymously (no name)",
        "name": "Your name",
        "contact": "Contact (phone, e-mail or WeChat, for the reply)",
        "reply_channel": "How you want the reply",
        "reply.phone": "Phone", "reply.email": "E-mail", "reply.wechat": "WeChat",
        "reply.letter": "Letter", "reply.window": "Ask at the township's window",
        "reply.none": "No reply needed",
        "privacy": "Only the handler and the county supervisor see your name and contact. "
                   "This page keeps no network address of yours.",
        "submit": "Send the report",
        "large": "Large text",
        "sending": "Sending…",
        "done": "Your report is received. Number: {number}. Keep it; the reply is due by "
                "{due}.",
        "error.validation-failed": "Some fields are not filled in right; check them and "
                                   "send again.",
        "error.too-many-requests": "Too many reports from here; try again later.",
        "error.body-too-large": "The text is too long; shorten it and send again.",
        "error.other": "The report was not sent; try again later, or call the township's "
                       "public reporting line.",
        "error.content": "Write what happened.",
        "error.township": "Choose a township.",
        "other_lang": "中文",
        "other_lang_href": "/report",
    },
}
REPLY_CHANNELS_SHOWN = ("phone", "email", "wechat", "letter", "window", "none")
