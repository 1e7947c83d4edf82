"""The 2017 Sanming plan (a 实施方案 written as prose) as real .docx files, for tests.

``SANMING_PARAGRAPHS`` is the text of ``shared/seeds/2017-sanming-plan.txt``, one paragraph per
line as the web page had it (half-width brackets and commas, the broken "1125日前", the notice's
signature, the page's trailing links). Two shapes:

* ``build_sanming_docx(path)``: every paragraph typed as it stands: "一、主要任务", "(一)…",
  "1.完善公开目录编制。…(委办公室牵头负责,…)";
* ``build_sanming_docx_styled(path)``: headings in the Word styles 标题 1 / 标题 2 numbered by
  Word (一、 and （一）, the numbering defined on the styles), task paragraphs numbered by a
  Word list (1. 2. 3., restarting in every sub-section: a ``w:num`` per sub-section with a start
  override), full-width brackets and commas; the typed numbers are gone from the text.

``SANMING_TASKS`` is what a reader must find: all 18 tasks with section, number, title and the
units as written with their roles; ``SANMING_DIRECTORY`` a unit directory for them (``各相关科室``
is left out on purpose: add ``SANMING_RELATED_GROUP`` to resolve it).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

SANMING_PARAGRAPHS: list[str] = [
    "三明市卫生和计划生育委员会关于印发2017年政务公开工作实施方案的通知",
    "时间:2017-06-09 17:56",
    "\u00a0三明市卫生和计划生育委员会关于",
    "",
    "印发2017年政务公开工作实施方案的通知",
    "",
    "各县(市、区)卫生计生局,委直属各单位,委机关各科室:",
    "",
    "为贯彻落实《三明市人民政府办公室关于印发2017年政务公开工作主要任务分解表的通知》(明政办〔201760号)和《福建省卫生计生委2017年政务公开工作任务实施方案》(闽卫综函〔2017312号)精神,进一步细化政务公开工作任务,加大公开力度,不断提高政务公开和政务服务水平,现将《三明市卫计委2017年政务公开工作实施方案》印发给你们,请结合各自实际,认真抓好组织落实。各有关科室要主动承担起牵头责任,加强协调沟通,推动各项要求落到实处。各地、各单位、各相关科室要将全年工作落实情况于1125日前报送市卫生计生委办公室。",
    "",
    "联系人:吴爱玉,电话:8292196",
    "",
    "三明市卫生和计划生育委员会\u00a0\u00a0",
    "",
    "\u00a0\u00a0\u00a0\u00a0\u00a0\u00a0\u00a0\u00a0\u00a0\u00a0\u00a0\u00a0\u00a0\u00a0\u00a0\u00a0\u00a0\u00a0\u00a0\u00a0\u00a0\u00a0\u00a0\u00a0\u00a0\u00a0\u00a0\u00a0\u00a0\u00a0\u00a0\u00a0201769 \u00a0\u00a0\u00a0\u00a0\u00a0\u00a0\u00a0",
    "",
    "此件主动公开)",
    "",
    "2017年政务公开工作实施方案",
    "",
    "根据《三明市人民政府办公室关于印发2017年政务公开工作主要任务分解表的通知》(明政办〔201760号)和《福建省卫生计生委关于印发2017年政务公开工作任务实施方案的通知》(闽卫综函〔2017312号)精神,结合我市卫生计生实际,制定如下实施方案。",
    "",
    "一、总体要求",
    "",
    "紧紧围绕有关卫生计生重大决策部署和公众关切,深入贯彻中共中央办公厅、国务院办公厅《关于全面推进政务公开工作的意见》和省委办公厅、省政府办公厅《全面推进政务公开工作实施意见》,细化政务公开工作任务,全面推进决策、执行、管理、服务、结果公开,加强政策解读回应,扩大公众参与,增强公开实效,助力稳增长、促改革、调结构、惠民生、防风险,切实保障人民群众知情权、参与权、表达权和监督权。",
    "",
    "二、主要任务",
    "",
    "(一)着力推进医疗卫生计生信息公开",
    "",
    "1.完善公开目录编制。各级医疗卫生计生单位要按照《福建省卫生计生委办公室转发国家卫生计生委办公厅关于印发医院、计划生育服务机构等9类医疗卫生机构信息公开目录的通知》(闽卫办信息函〔201522号)要求,认真做好院务公开、改善医疗服务行动计划落实情况公开等工作,积极配合医保部门公开常规医疗服务价格、常用药品和主要医用耗材价格等信息。规范和细化本单位信息公开目录设置,规范和细化向社会公开、向患者公开、向内部职工公开等内容,规范和细化信息的采集、编制、审查、公开、管理等流程。(各市属医疗卫生计生单位、各县市区卫生计生局分别负责落实和推动落实)",
    "",
    "2.建立健全动态扩展机制。及时更新完善相关数据,保障公民、法人和其他组织依法获取医疗卫生计生服务单位信息。主动公开的信息,应当自信息形成之日20个工作日内予以公开。各地各单位收到的依申请公开信息,不能当场答复的,应于15个工作日内答复。各市属医疗卫生计生单位应及时将本单位每季度主动公开、依申请公开信息等情况,报送市卫生计生委办公室。(各市属医疗卫生计生单位、各县市区卫生计生局分别负责落实和推动落实)",
    "",
    "3.积极拓展公开渠道。坚持方便群众的原则,充分利用网站、电视、微博微信、短信平台、咨询热线、公开公示栏、电子信息屏等多渠道传播信息,确保公众及时知晓和有效获取医疗卫生计生服务信息。加强医患沟通等便民服务工作,完善医疗服务咨询和投诉制度,及时处理群众诉求,减少医患矛盾。积极推进医德医风建设,建立违规违纪问题处理结果公开机制,改善群众就医感受。(各市属医疗卫生计生单位、各县市区卫生计生局分别负责落实和推动落实)",
    "",
    "(二)全面落实权力运行公开机制",
    "",
    "1.将“五公开”纳入办文办会程序。“五公开”要求落实到办文办会程序中。各科室(单位)在拟制公文时,要明确主动公开、依申请公开、不予公开等属性,随公文一并报批;拟不公开的,要依法依规说明理由。对拟不公开的政策性文件,报批前应经委办公室和相关科室联合审查。(委办公室牵头负责,各相关科室负责落实)",
    "",
    "2.积极推进决策公开。推行卫生计生重大民生决策事项民意调查制度,探索建立利益相关方、公众、专家、媒体等列席有关会议制度。积极实行重大决策预公开,扩大公众参与。对涉及群众切身利益、社会关注度高的决策事项,除依法应当保密的,在决策前应向社会公开相关信息,并及时反馈意见采纳情况。(委各科室负责落实)",
    "",
    "3.推进政策执行和落实情况公开。围绕政府工作报告、发展规划提出的重要事项,细化公开执行措施、实施步骤、责任分工、监督方式等,实事求是地公布进展和完成情况,特别针对一些重点工作,要明确目标、责任分工和时限要求,定期通报进展。进一步加大对督查发现的问题及整改落实情况的公开力度。(委各科室负责落实)",
    "",
    "4.推进重大建设项目信息公开。及时做好重大建设项目审批、核准、备案等结果公开,定期发布项目审批、建设等信息,明确公开范围、程序、标准等,着力推进实施过程信息公开。(委规财科牵头落实)",
    "",
    "5.推进电视电话会议和建议提案办理结果公开。对涉及公众利益、需要社会广泛知晓的电视电话会议,除涉及国家秘密外,积极通过网络方式向社会公开。对涉及公共利益、社会广泛关注的建议提案,原则上也要公开答复全文,及时回应关切,接受群众监督。(委各科室负责落实)",
    "",
    "6.依法规范依申请公开工作。畅通依申请公开受理渠道,依法保障公众合理的信息需求。进一步规范依申请公开答复工作,严格按照法定时限答复,增强答复内容的针对性。对依申请公开工作中发现的依法行政方面问题,及时向相关单位提出工作建议。对公众申请较为集中的政府信息,可以转为主动公开的,应当主动公开。(委办公室牵头负责,各相关科室负责落实)",
    "",
    "(三)围绕助力促改革推进公开",
    "",
    "1.推进权力清单和责任清单公开。强化权责清单管理与应用,推动减权放权,通过在政府门户网站集中发布、开设反馈意见箱、增加在线提交意见建议功能等方式,扩大公众参与。定期告知并明确标注政策性文件的废止、失效情况,及时做好取消、下放、保留行政审批、职业资格等事项的公开工作,除涉密事项外都要及时向社会公开,重点公开保留的行政许可事项清单。(委政法科牵头落实)",
    "",
    "2.推进医疗卫生市场监管公开透明。围绕年内实现“双随机、一公开”监管全覆盖要求,加强事中事后监管,汇总形成并统一公布随机抽查事项清单,明确抽查依据、主体、内容、方式等,及时公布抽查结果和查处情况,推动实现“双随机、一公开”监管全覆盖。(委政法科、医政科、疾控监督科牵头落实)",
    "",
    "3.推进“互联网+政务服务”公开。加快政务服务平台建设,提升网上办事大厅功能,推行“一张网”管理。推进加快完善电子证照系统,促进行政审批服务全程网办,推进实体政务大厅和网上服务平台融合发展,推动政务服务事项办理由实体政务大厅向网上办事大厅延伸,逐步实现服务事项在线咨询、网上办理、电子监察。做好公共服务事项公开,完善服务目录、指南,每月按时公开集中式生活饮用水水质监督信息。(委政法科、规财科、疾控监督科牵头落实)",
    "",
    "4.深入推进预决算公开。按照财政部门有关要求,通过预决算公开统一平台推进预决算公开,并对公开内容进行分级分类管理,方便公众查阅监督。其中,公开内容应包括本单位职责、机构设置、一般公共预算收支、政府性基金预算收支、机关运行经费等情况。(委规财科牵头落实)",
    "",
    "5.落实“河长制”工作方案。认真落实“河长制”工作实施方案,扎实做好农村改厕工作。(委爱卫办负责落实)",
    "",
    "(四)健全机制建设,切实做好政策解读",
    "",
    "1.及时传递权威信息。深入解读政策背景、依据、目标任务、涉及范围,及时准确传递政策意图。对涉及面广、社会关注度高的法规政策和重大措施,主要负责人应积极通过新闻发布会、在线访谈、发表文章等方式,及时发声,主动做好解疑释惑。要针对不同社会群体,采取不同传播策略,注重运用各级各类新闻媒体,特别要重视发挥主流媒体及其新媒体“定向定调”作用,及时全面准确解读政策,正确引导舆论,增进社会认同。(委各科室负责落实)",
    "",
    "2.严格落实政策解读“三同步”要求。按照“谁起草、谁解读”原则,委各科室(单位)在起草政策文件时,认真落实文件与解读方案、解读材料同步组织、同步审签、同步部署。对于应解读而没有解读的政策文件,在办文核稿、文件合法性审查时应予以退回补充解读,确保同步起草、同步报批、同步公布,特殊情况下公布解读材料最迟不得超过政策文件公布后的3个工作日。同时适应网络传播特点,积极运用图片、图表、图解、视频等方式,使政策解读传播可视、可读、可感。(委办公室负责把关,各科室落实)",
    "",
    "(五)加强预期引导,积极回应社会关切",
    "",
    "1.做好舆情监测引导。扩大舆情收集范围,充分了解各方关切。对涉及本系统重要政务舆情、媒体关切等热点问题,认真研判处置,主要负责人要履行好“第一解读人和责任人”职责,及时借助媒体、网站等渠道讲清事实真相、有关政策措施、处置结果等,主动回应舆论关切。对涉及突发事件的各种虚假不实信息,要迅速澄清事实,消除不良影响。特别重大、重大突发事件发生后,严格执行有关时限要求,认真落实通报批评和约谈制度,确保回应不超时、内容不敷衍。(委宣传科牵头,各相关科室负责落实)",
    "",
    "2.用好管好政务新媒体。明确开办主体责任,切实履行监管职责,健全内容发布审核机制,强化互动和服务功能,切实解决更新慢、无序发声、敷衍了事等问题。对重要会议活动、重大决策部署、重要工作动态等方面信息,要统筹运用媒体做好发布工作。重要信息、重大政策发布后,要注重运用主流媒体及其新媒体及时报道解读。畅通媒体采访渠道,积极创造条件安排主流媒体及其新媒体负责人列席有关重要决策会议。(委宣传科牵头,各相关科室负责落实)",
    "",
    "三、保障措施",
    "",
    "(一)加强责任落实。国务院办公厅、省政府办公厅、市政府办公室明确要求将政务公开工作纳入政府绩效考核体系,将按季度对政务公开工作落实情况进行督查,并组织开展第三方评估。各单位要高度重视,建立“主要领导负总责,分管领导具体抓”工作机制,逐项分解工作任务,明确办理责任人员和办理时限等。牵头科室要切实履行牵头职责,加强组织协调和推进任务落实。各协作单位应积极主动配合,结合业务工作实际认真抓好落实。对人为因素影响任务落实造成不良影响的,将视情节追究相应责任。",
    "",
    "(二)强化考核监督。各级卫生计生部门要充分发挥行业主管部门的作用,切实加强对政务公开工作的指导、监督和考核评价工作。要将政务公开落实情况纳入相关业务工作监督检查范围,加强对各医疗卫生计生单位信息公开落实工作的跟踪督查和推进落实。要推进政府信息主动公开基本目录建设,加强对规范性文件公开的审查,定期对不公开的政府信息进行评审,确保应公开尽公开。严格执行保密审查制度,认真落实“先审查、后公开”的要求,对拟公开的政府信息要依法依规做好保密审查,确保国家秘密信息安全。",
    "",
    "\u00a0 \u00a0 (三)推进能力建设。充分发挥政府门户网站信息公开第一平台作用,增强发布信息、解读政策、回应关切、引导舆论功能。加强政府门户网站建设,推进政府网站集约化,提升公开信息的集中度,强化信息内容保障,方便公众获取。重视加强基层政务公开工作,部署开展标准化规范化试点。加强热线电话管理,鼓励开展开放日、网络问政等主题活动,增进与公众的互动交流。加强队伍建设,配备人员力量,积极组织参与业务培训,增强专业素养,强化公开理念,提高指导、推动政务公开工作的能力和水平。",
    "",
    "附件下载",
    "",
    "扫一扫在手机上查看当前页面",
    "",
    "相关链接",
]

SANMING_TITLE = "三明市卫生和计划生育委员会关于印发2017年政务公开工作实施方案的通知"
SECTION_2 = "二、主要任务"
SUB = {
    1: "(一)着力推进医疗卫生计生信息公开",
    2: "(二)全面落实权力运行公开机制",
    3: "(三)围绕助力促改革推进公开",
    4: "(四)健全机制建设,切实做好政策解读",
    5: "(五)加强预期引导,积极回应社会关切",
}
_COUNTIES = [("各市属医疗卫生计生单位", "responsible"), ("各县市区卫生计生局", "responsible")]
_OFFICE_RELATED = [("委办公室", "lead"), ("各相关科室", "responsible")]
_ALL = [("委各科室", "responsible")]
_PUBLICITY = [("委宣传科", "lead"), ("各相关科室", "responsible")]
# (sub-section, number, title, units as written with roles)
SANMING_TASKS: list[tuple[int, str, str, list[tuple[str, str]]]] = [
    (1, "1", "完善公开目录编制", _COUNTIES),
    (1, "2", "建立健全动态扩展机制", _COUNTIES),
    (1, "3", "积极拓展公开渠道", _COUNTIES),
    (2, "1", "将“五公开”纳入办文办会程序", _OFFICE_RELATED),
    (2, "2", "积极推进决策公开", _ALL),
    (2, "3", "推进政策执行和落实情况公开", _ALL),
    (2, "4", "推进重大建设项目信息公开", [("委规财科", "lead")]),
    (2, "5", "推进电视电话会议和建议提案办理结果公开", _ALL),
    (2, "6", "依法规范依申请公开工作", _OFFICE_RELATED),
    (3, "1", "推进权力清单和责任清单公开", [("委政法科", "lead")]),
    (3, "2", "推进医疗卫生市场监管公开透明",
     [("委政法科", "lead"), ("医政科", "lead"), ("疾控监督科", "lead")]),
    (3, "3", "推进“互联网+政务服务”公开",
     [("委政法科", "lead"), ("规财科", "lead"), ("疾控监督科", "lead")]),
    (3, "4", "深入推进预决算公开", [("委规财科", "lead")]),
    (3, "5", "落实“河长制”工作方案", [("委爱卫办", "responsible")]),
    (4, "1", "及时传递权威信息", _ALL),
    (4, "2", "严格落实政策解读“三同步”要求", [("委办公室", "lead"), ("各科室", "responsible")]),
    (5, "1", "做好舆情监测引导", _PUBLICITY),
    (5, "2", "用好管好政务新媒体", _PUBLICITY),
]  # fmt: skip

SANMING_SECTIONS = ["办公室", "规财科", "政法科", "医政科", "疾控监督科", "爱卫办", "宣传科"]
SANMING_AFFILIATES = ["三明市第一医院", "三明市疾病预防控制中心"]
SANMING_COUNTIES = ["永安市卫生计生局", "三元区卫生计生局"]
SANMING_RELATED_GROUP = "各相关科室"
# (name, aliases, groups) as tests.ledgers.add_directory takes them
SANMING_DIRECTORY: list[tuple[str, list[str], list[str]]] = [
    *((name, [], ["各科室"]) for name in SANMING_SECTIONS),
    *((name, [], ["各市属医疗卫生计生单位"]) for name in SANMING_AFFILIATES),
    *((name, [], ["各县市区卫生计生局"]) for name in SANMING_COUNTIES),
]


def sanming_directory(related: bool = False) -> list[tuple[str, list[str], list[str]]]:
    """The directory; ``related`` also puts every section in the group 各相关科室."""
    if not related:
        return [(n, list(a), list(g)) for n, a, g in SANMING_DIRECTORY]
    return [
        (n, list(a), [*g, SANMING_RELATED_GROUP] if "各科室" in g else list(g))
        for n, a, g in SANMING_DIRECTORY
    ]


def expected_section(sub: int) -> list[str]:
    return [SECTION_2, SUB[sub]]


# -- builders ------------------------------------------------------------------------------------
_SECTION = re.compile(r"^[一二三四五六七八九十]+、")
_SUBSECTION = re.compile(r"^[（(][一二三四五六七八九十]+[）)]")
_NUMBERED = re.compile(r"^(\d+)[.．]")


def build_sanming_docx(path: Path, paragraphs: Sequence[str] | None = None) -> Path:
    """The plan as typed paragraphs (empty lines become empty paragraphs, as Word keeps them)."""
    import docx

    document = docx.Document()
    for text in SANMING_PARAGRAPHS if paragraphs is None else paragraphs:
        document.add_paragraph(text)
    document.save(str(path))
    return Path(path)


def _full_width(text: str) -> str:
    return text.replace("(", "（").replace(")", "）").replace(",", "，")


def _xml(tag: str, body: str = "", **attrs: Any) -> Any:
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    attributes = "".join(f' w:{k}="{v}"' for k, v in attrs.items())
    return parse_xml(f"<w:{tag} {nsdecls('w')}{attributes}>{body}</w:{tag}>")


def _level(ilvl: int, fmt: str, text: str, style: str | None = None) -> str:
    pstyle = f'<w:pStyle w:val="{style}"/>' if style else ""
    return (
        f'<w:lvl w:ilvl="{ilvl}"><w:start w:val="1"/><w:numFmt w:val="{fmt}"/>{pstyle}'
        f'<w:lvlText w:val="{text}"/><w:lvlJc w:val="left"/></w:lvl>'
    )


def _number(ppr, num_id: int, ilvl: int) -> None:
    """Set ``w:numPr`` in paragraph (or style) properties, in schema order."""
    num_pr = ppr.get_or_add_numPr()
    num_pr.get_or_add_ilvl().val = ilvl
    num_pr.get_or_add_numId().val = num_id


class _Lists:
    """Numbering definitions added to a python-docx document."""

    HEADINGS, TASKS = 90, 91

    def __init__(self, document) -> None:
        self.numbering = document.part.numbering_part.element
        first_num = self.numbering.num_lst[0] if self.numbering.num_lst else None
        headings = _xml(
            "abstractNum",
            _level(0, "chineseCounting", "%1、", "Heading1")
            + _level(1, "chineseCounting", "（%2）", "Heading2"),
            abstractNumId=self.HEADINGS,
        )
        tasks = _xml("abstractNum", _level(0, "decimal", "%1."), abstractNumId=self.TASKS)
        for abstract in (headings, tasks):
            if first_num is not None:
                first_num.addprevious(abstract)
            else:
                self.numbering.append(abstract)
        self.numbering.append(self._num(self.HEADINGS, self.HEADINGS))
        self.next_id = 100

    def _num(self, num_id: int, abstract_id: int, restart: bool = False) -> Any:
        override = (
            '<w:lvlOverride w:ilvl="0"><w:startOverride w:val="1"/></w:lvlOverride>'
            if restart
            else ""
        )
        return _xml("num", f'<w:abstractNumId w:val="{abstract_id}"/>{override}', numId=num_id)

    def new_task_list(self) -> int:
        """A list of tasks numbered from 1 again (Word's "restart numbering")."""
        self.next_id += 1
        self.numbering.append(self._num(self.next_id, self.TASKS, restart=True))
        return self.next_id


def _style_numbering(document, style_name: str, num_id: int, ilvl: int) -> None:
    _number(document.styles[style_name].element.get_or_add_pPr(), num_id, ilvl)


def build_sanming_docx_styled(path: Path) -> Path:
    """The plan with Word heading styles and Word list numbering (no typed numbers)."""
    import docx

    document = docx.Document()
    lists = _Lists(document)
    _style_numbering(document, "Heading 1", _Lists.HEADINGS, 0)
    _style_numbering(document, "Heading 2", _Lists.HEADINGS, 1)
    task_list = None
    for index, raw in enumerate(SANMING_PARAGRAPHS):
        text = _full_width(raw.strip())
        if index == 0:
            document.add_paragraph(text, style="Title")
        elif _SECTION.match(text) and len(text) < 30:
            document.add_paragraph(_SECTION.sub("", text), style="Heading 1")
        elif _SUBSECTION.match(text) and "。" not in text:
            document.add_paragraph(_SUBSECTION.sub("", text), style="Heading 2")
            task_list = lists.new_task_list()
        elif _NUMBERED.match(text) and task_list is not None:
            paragraph = document.add_paragraph(_NUMBERED.sub("", text), style="List Number")
            _number(paragraph._p.get_or_add_pPr(), task_list, 0)
        else:
            document.add_paragraph(text)
    document.save(str(path))
    return Path(path)
