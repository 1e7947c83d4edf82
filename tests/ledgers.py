"""Real ledger files built from the two seed ledgers, for tests (and the shipped sample).

Plain functions, each writing one file in a shape real offices send:

* ``build_yinchuan_xlsx(path)``: title and intro rows merged across, the 填报单位/填报时间 line,
  a section row merged across before each section, the header repeated in every section (with
  "责任科室（单位）" in the first and "责任单位" after), multi-line cells, the 完成时限 cell of
  section 一 merged down over its five tasks and two unit cells merged down;
* ``build_yinchuan_docx(path)``: title and intro as paragraphs; sections 一/二 in one table with
  section rows merged across, sections 三/四 as separate tables after a heading paragraph;
  multi-paragraph cells (and trailing empty paragraphs, as Word leaves them);
* ``build_yinchuan_csv(path, encoding="utf-8-sig")`` (also "gbk");
* ``build_jiangmen_docx(path)`` / ``build_jiangmen_xlsx(path)``: the 工作任务 cell merged down over
  the requirements of its heading; ``build_jiangmen_csv(path, encoding="gbk")``: no merges, a
  continuation row leaves the 工作任务 cell empty.

Every builder takes optional ``sections`` (see ``yinchuan_sections()`` / ``jiangmen_sections()``,
deep copies of the seed data) so a test can build an edited ledger. The low-level writers
(``write_xlsx``, ``write_docx``, ``write_csv``) and ``build_encrypted_office_file`` build bad files.
The data below is the text of ``shared/seeds/2023-yinchuan-ledger.txt`` and
``shared/seeds/2021-jiangmen-work-plan.txt``.
"""

from __future__ import annotations

import copy
import csv
import struct
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from workflow.samples import YINCHUAN_DIRECTORY as SAMPLE_DIRECTORY

YINCHUAN_TITLE = "银川市卫生健康委员会2023年政务公开工作要点任务落实台账"
YINCHUAN_INTRO = (
    "按照《关于印发银川市卫生健康委员会2023年政务公开工作要点的通知》同步编制《任务落实台账》，共4个板块14项重点任务。请委机关各相关科室、委属各单位对照台账细"
    "化措施、逐项落实，落实情况或进展信息分别于2023年7月31日、11月30日前报送银川市卫健委办公室（邮箱：ycws_bgs@163.com,传真：688909"
    "0）。市卫健委办公室实时跟进督查落实情况，对未按时完成的将在年底绩效考核中扣除相应分数。"
)
YINCHUAN_FILL_LINE = "填报单位：" + " " * 40 + "填报时间："
YINCHUAN_HEADER = [
    "序号",
    "重点工作",
    "主要内容",
    "量化指标",
    "责任科室（单位）",
    "完成时限",
    "进展落实情况",
]
_YINCHUAN_SECTIONS: list[dict[str, Any]] = [
    {
        "title": "一、围绕重点领域，加大主动公开力度",
        "header": [
            "序号",
            "重点工作",
            "主要内容",
            "量化指标",
            "责任科室（单位）",
            "完成时限",
            "进展落实情况",
        ],
        "tasks": [
            {
                "number": "1",
                "title": "抓好重点领域信息公开。",
                "content": "围绕解决群众急难愁盼问题，按照《银川市人民政府关于“一老一小”整体解决方案的通知》 (银政发〔2023〕24 号) "
                "要求，加强托育政策推送力度，促进托育服务健康发展。依托政府网站、政务新媒体等电子媒体平台和《政府公报》等纸面实体刊物，做好托育服务政策推送工作，提高信息公开覆盖度和查阅便利度。",
                "metric": "查看各级各部门在市政府门户网站、本部门网站和政务新媒体平台相关政策推送情况以及实际掌握情况",
                "units": "人口发展与妇幼健康科",
                "deadline": "11月",
            },
            {
                "number": "2",
                "title": "抓好医疗卫生信息公开。",
                "content": "细化信息公开具体目录和服务，优化公开途径，通过网站、微信公众号等线上新媒体优势以及宣传栏、文化长廊、LED显示屏、宣传册等线下载体，及时公开机构简介、医疗服务、招标采购、医疗动态、疾病防控、就医需求、医保基本知识、通知公告、咨询电话等群众关注度高的信息，优化机构运行管理模式，推动机构运行管理规范化、制度化。持续做好抓好卫生健康领域信息公开，重点公开相关工作进展、产业集群发展、平台项目落地等信息，提升医疗卫生服务水平。",
                "metric": "查看本部门在市政府门户网站、本部门网站发布相关政策公开情况、落实情况和实际掌握情况",
                "units": "委机关各科室、委属各单位",
                "deadline": "11月",
            },
            {
                "number": "3",
                "title": "抓好自身建设信息公开。",
                "content": "坚持“公开为常态、不公开为例外”原则，持续做好法定主动公开内容的更新，及时、规范、集中公开本部门汇总预决算、部门本级预决算和委属单位预决算信息；及时公开行政许可、行政处罚、卫生健康随机监督抽查结果等信息；同时推动政府工作报告归集公开,按季度公开本级政府工作报告重点任务、民生实事执行情况。",
                "metric": "查看本部门在市政府门户网站、本部门网站发布相关政策公开情况、落实情况和实际掌握情况",
                "units": "财务审计科、法规与综合监督科、办公室",
                "deadline": "11月",
            },
            {
                "number": "4",
                "title": "抓好公共卫生知识的宣传普及。",
                "content": "主动公开健康银川相关工作信息，制作多种形式的科普材料，通过网站、政务新媒体等渠道推送优秀健康科普作品，方便群众及时获取权威健康知识，引导群众养成文明健康习惯。主动开展面向人民群众的健康科普活动，研究制定健康科普信息发布与传播机制。",
                "metric": "查看本部门在市政府门户网站、本部门网站发布相关政策公开情况、落实情况和实际掌握情况",
                "units": "健康综合科",
                "deadline": "11月",
            },
            {
                "number": "5",
                "title": "抓好民生领域信息公开。",
                "content": "深入践行“以人民为中心”的发展理念，聚焦人民群众关心关注的卫生健康领域热点、难点问题。全力推进医药卫生体制改革、医疗服务价格和收费信息、项目建设、疫苗监管、食品药品、行业作风建设情况等信息公开力度，提高群众政策知晓度和满意度。",
                "metric": "查看委属各单位“两微一端”医疗服务相关信息发布情况和实际掌握情况；查看委属各单位展板、大屏、公开栏等医疗服务相关信息发布情况和实际掌握情况",
                "units": "委机关各科室、委属各单位",
                "deadline": "11月",
            },
        ],
    },
    {
        "title": "二、强化重要政策发布，加大同步解读力度",
        "header": [
            "序号",
            "重点工作",
            "主要内容",
            "量化指标",
            "责任单位",
            "完成时限",
            "进展落实情况",
        ],
        "tasks": [
            {
                "number": "6",
                "title": "加强政策文件精准发布。",
                "content": "制定的重大行政决策事项、规范性文件，除涉及国家秘密、商业秘密、个人隐私及其他依法不予公开的内容外，应在单位主要负责人签发后的3个工作日内，通过网站或其他公众媒体及时公开，并同步公开制定依据和结果，实施政策精准推送服务，推动“人找政策”向“政策找人”转变，及时更新委网站现行有效的规范性文件，明确标题、正文、文号、成文日期、发布日期、有效性等，未经公布的行政规范性文件不得作为行政管理依据。",
                "metric": "查看本部门在市政府门户网站、本部门网站和政务新媒体平台政策文件解读情况和实际掌握情况",
                "units": "委机关各科室",
                "deadline": "11月",
            },
            {
                "number": "7",
                "title": "提升政策解读质量。",
                "content": "围绕卫生健康重点工作，按照“谁起草谁解读，应解读尽解读”原则，做好实施意见以及规范性文件、重要政策性文件全面公开和精准解读；特别是涉及面广、社会关注度高的重大政策和重大措施制定背景、目标任务、主要内容、涉及范围、执行标准，以及注意事项、关键词诠释、新旧政策差异等进行全方位解读，针对不同社会群体，注重运用客观数据、生动案例等进行形象化、通俗化解读，提高政策解读质量，让群众看得见、听得懂、信得过，有效引导社会预期；各项政策措施在向社会解读的同时，注重对基层一线执行人员开展政策解读、培训，确保执行环节不遗漏、不走样。\n"
                "对重要政策文件和解读材料，协调主要新闻媒体、重点网站和新媒体平台转发转载，提高政策知晓度和到达率。政策中与社会公众生产生活密切相关的具体条款和审批事项，组织要点拆分、深度解读和综合指引。\n"
                "年内做到图文解读全覆盖、动漫视频占比 20%。",
                "metric": "查看本部门在市政府门户网站、本部门网站发布相关政策公开情况、落实情况和实际掌握情况",
                "units": "委机关各科室",
                "deadline": "11月",
            },
        ],
    },
    {
        "title": "三、畅通平台渠道，加大信息互动力度",
        "header": [
            "序号",
            "重点工作",
            "主要内容",
            "量化指标",
            "责任单位",
            "完成时限",
            "进展落实情况",
        ],
        "tasks": [
            {
                "number": "8",
                "title": "常态开展政府开放日活动。",
                "content": "全面落实《银川市人民政府 政务公开办公室关于落实全区“政府开放日”工作方案的通知》 (银政公开办发〔2021〕2 号 ) "
                "和《银川市人民政府办公室关于 在能力作风建设年中开展“为民办实事”开放日活动的通知》 (银 政办发〔2023〕24 号 ) "
                "要求，按照“制定方案、发布公告、组织实施、报送结果(包括活动内容、现场图片等) "
                "”原则，做好“政府开放日”和“为民办实事开放日”活动。通过开展“政府开放日”活动，搭建起卫生健康部门与群众之间的沟通桥梁，了解卫生健康业务运行，监督卫生健康工作，提高广大市民对卫生健康工作的知晓度。",
                "metric": "查看本单位“政府开放日”“为民办实事开放日”落实情况和实际掌握情况",
                "units": "办公室、宣传与对外交流合作科、督查督办科",
                "deadline": "11月",
            },
            {
                "number": "9",
                "title": "规范依申请公开办理。",
                "content": "提升依申请办理服务和保障水平。严格落实法定职责，依法依规做好依申请答复，在依申请公开工作中强化服务理念，加强与申请人的沟通，准确了解申请人诉求，提高答复的及时性和针对性，对无法向申请人提供的政府信息，要在告知书中说明理由，对于答复难度大、牵涉部门多的申请件，加强与申请人沟通联系，充分了解诉求情况，及时做好解释说明，并主动加强部门间沟通，经过认真讨论、细致研究后形成答复意见，确保答复信息精准对接申请事项，每件申请均依据答复文书格式要求，依法保障公民、法人和其他组织获取信息的权利；对公众申请较为集中的信息，可以转化为主动公开的，应在答复申请人的同时，通过网站等平台主动公开。",
                "metric": "查看本部门信息公开申请办理情况和实际掌握情况",
                "units": "委机关各科室",
                "deadline": "11月",
            },
            {
                "number": "10",
                "title": "畅通公众参与渠道。",
                "content": "充分利用政府网站意见征集、问卷调查、领导信箱、12345政务服务热线等渠道，做好群众意见和热点问题收集，与群众进行及时、便捷交流，使群众能够积极参与卫生健康政策执行和监督，更好地获得群众理解、信任和支持；对反映集中的问题，要通过二次解读等方式进行回应，定期梳理更新常见问题解答库，集中回应共性和普遍疑问；\n"
                "强化舆情风险源头研判，密切监测苗头性舆情，建立健全突发敏感舆情应急处置和与宣传、网信、公安等部门沟通联动机制，及时发布事件动态、处置结果等权威信息，澄清事实真相，实现信息共享、同声同源，主动引导社会预期，扩大政府信息的公众知晓度和覆盖面。",
                "metric": "查看各级各部门在市政府门户网站、本部门网站和政务新媒体平台关于重大行政决策事项公开情况和实际掌握情况",
                "units": "委机关各科室",
                "deadline": "11月",
            },
        ],
    },
    {
        "title": "四、强化平台建设，加大制度执行力度",
        "header": [
            "序号",
            "重点工作",
            "主要内容",
            "量化指标",
            "责任单位",
            "完成时限",
            "进展落实情况",
        ],
        "tasks": [
            {
                "number": "11",
                "title": "夯实政府网站建设管理。",
                "content": "发挥政府网站作为政务公开第一平台的作用，严格落实网络意识形态责任制，加强政府网站内容管理和信息审核，按照“谁主管、谁负责”的原则，切实做到层层把关、严格审核，提升信息发布审核工作规范化、制度化水平，确保信息发布流程完善、内容准确；栏目内容要系统完备，分类清晰，突出本单位业务属性，同时围绕卫生健康工作重点和社会公众关注热点，合理调整设置网站专题专栏；对存在与网站其他版块内容交叉重复的，要加强衔接，坚持数据同源；加强网站日常巡查、维护，确保内容及时更新，杜绝错链、断链和内容混杂，同时积极推动政府网站和政务新媒体适老化和无障碍改造；规范做好“我为政府网站找错”网民留言处理答复。",
                "metric": "查看本单位政府网站建设、适老化与无障碍阅读情况、“我为政府网站找错”网民留言办理答复情况和实际掌握情况",
                "units": "办公室、宣传与对外交流合作科",
                "deadline": "11月",
            },
            {
                "number": "12",
                "title": "推动政务新媒体有序运行。",
                "content": "按照“谁开设、谁主办，谁应用、谁负责”的原则，建立完善政务新媒体基本信息库，针对重复建设、“娱乐化”“空壳”等问题常态化开展清理整合，落实政务新媒体开设、变更、关停、注销向主管单位报备制度。加强政务新媒体内容建设，提高信息原创比例，强化新媒体使用，形成全方位、立体化传播态势，提升服务水平，积极发挥政务新媒体的传播优势，加大对重要政策文件和可视化、趣味化解读的推广力度，优化服务互动功能，高质量回应社会关切。",
                "metric": "查看本部门政府网站和政务新媒体工作群清理情况和实际掌握情况",
                "units": "办公室、宣传与对外交流合作科",
                "deadline": "11月",
            },
            {
                "number": "13",
                "title": "坚持正向激励。",
                "content": "优化考核方式，进一步完善考核体系，采取符合委机关特点的考核办法，规范有序开展考核工作；加大日常考核比重，提升考核针对性和实效性；合理运用考核结果，需向社会公开发布排名结果或问题通报的，按程序报委主要负责同志批准。",
                "metric": "依据实际掌握情况",
                "units": "办公室",
                "deadline": "长期坚持",
            },
            {
                "number": "14",
                "title": "汇编任务落实台账。",
                "content": "对照本要点提出的重点任务，梳理形成委机关工作台账，明确责任主体和时限要求，逐项推动落实。对上一年度工作要点落实情况开展“回头看”，未完成的要依法督促整改；将本要点落实情况纳入政府信息公开工作年度报告予以公开，接受社会监督。",
                "metric": "依据制定工作要点和工作台账情况以及实际掌握情况",
                "units": "办公室",
                "deadline": "11月",
            },
        ],
    },
]

JIANGMEN_TITLE = "江门市卫生健康局2021年政务公开工作要点分工方案"
JIANGMEN_HEADER = ["工作任务", "具体要求", "责任科室"]
_JIANGMEN_SECTIONS: list[dict[str, Any]] = [
    {
        "heading": "一、做好行政执法信息公开",
        "items": [{"requirement": "1.加强行政执法信息公开。", "units": "局政法科"}],
    },
    {
        "heading": "二、做好财政信息公开",
        "items": [{"requirement": "2.推进本机关预算、决算及相关报表公开。", "units": "局财务科"}],
    },
    {
        "heading": "三、做好政府网站专栏信息公开",
        "items": [
            {"requirement": "3.每年至少更新一次“开放江门”数据集。", "units": "局规划科"},
            {"requirement": "4.及时反馈网民对调查征集信息的意见。", "units": "局主办科室"},
        ],
    },
    {
        "heading": "四、做好常态化疫情防控信息公开",
        "items": [
            {
                "requirement": "5.设立专栏,重点围绕散发疫情、隔离管控、流调溯源、精准防控、假期人员流动等发布权威信息(专栏每月至少更新2条信息)。",
                "units": "局防控办主办、各工作组协办",
            },
            {"requirement": "6.扎实做好疫苗接种信息公开和舆论引导工作。", "units": "局疾控科"},
            {
                "requirement": "7.提高新冠肺炎防控信息发布规范化水平,强化政府系统内部信息整合,统一步调对外发声。",
                "units": "局宣传科研组",
            },
            {
                "requirement": "8.做好爱国卫生运动、健康中国行动等相关工作的信息公开。",
                "units": "局规划科",
            },
        ],
    },
    {
        "heading": "五、持续加强重大政策发布解读",
        "items": [
            {
                "requirement": "9.综合运用新闻发布会、在线访谈、图文动画、短视频等形式,对重大政策开展深入解读,更加注重对政策背景、出台目的、重要举措等方面的实质性解读。",
                "units": "局主办科室",
            }
        ],
    },
    {
        "heading": "六、不断改进政策解读工作方式",
        "items": [
            {
                "requirement": "10.按照《江门市政府系统政策解读工作细则(试行)》相关要求,健全政策解读工作机制,规范工作流程,确保解读方案、解读材料与政策文件同步组织、同步审签、同步部署。",
                "units": "局主办科室",
            },
            {
                "requirement": "11.加强政策咨询服务,政策制定机关要积极解答政策执行机关和企业、群众的咨询,精准传达政策意图(政策文件和解读资料需添加咨询方式)。",
                "units": "局主办科室",
            },
            {
                "requirement": "12.加强内部协调工作,修订本单位政府信息公开指南,明确对外告知政府信息公开渠道。",
                "units": "局办公室",
            },
        ],
    },
    {
        "heading": "七、切实增强回应关切效果",
        "items": [
            {
                "requirement": "13.密切关注疫情防控、医疗等方面的舆情并及时作出回应,助力防范化解重大风险。",
                "units": "局宣教科",
            },
            {
                "requirement": "14.提前做好重大政策发布前和发布后的解读回应工作,注意收集相关舆情。增强回应工作的主动性,通过网上调研等方式,及时了解掌握社会公众对政策执行效果的反馈与评价,主动回应存在的共性问题,助力政策完善。",
                "units": "局主办科室",
            },
            {
                "requirement": "15.认真做好政务舆情(政务新媒体后台留言)和“省长留言信箱”“12345”政府热线等各类留言信息的办理工作,以解决问题的具体举措实质性回应社会关切。",
                "units": "局宣教科、办公室主办,各科室协办",
            },
            {
                "requirement": "16. 建立舆情回应台账管理制度,认真核查已作出的承诺的跟踪落实及公开情况,切实维护政府公信力。",
                "units": "局宣教科",
            },
        ],
    },
    {
        "heading": "八、做好政务信息管理工作",
        "items": [
            {
                "requirement": "17.对照中国政府法制信息网行政法规库公布的行政法规和国家正式版本,在本机关网站(部门频道)上及时更新本系统实施的行政法规文本。",
                "units": "局各科室",
            }
        ],
    },
    {
        "heading": "九、完善政务公开平台",
        "items": [
            {
                "requirement": "18.不断完善政务新媒体监管机制,针对一哄而上、重复建设、“娱乐化” "
                "“空壳”等问题有序开展清理整合。建立健全政务新媒体清单管理机制,实行动态更新,杜绝瞒报漏报。严格落实信息发布审核制度,先审后发,确保政务新媒体信息内容安全和平稳高效运行。",
                "units": "局宣教科主办,各科室协办",
            }
        ],
    },
    {
        "heading": "十、推进基层政务公开标准化规范化",
        "items": [
            {
                "requirement": "19.本机关已出台卫生健康领域基层政务公开标准指引,要积极履行行业主管部门指导监督职责,切实对基层政府落实情况进行跟踪评估,以基层群众实际需求为导向,及时对卫生健康领域基层政务公开标准目录予以调整完善,增强操作性、实效性。",
                "units": "局办公室主办,各科室协办",
            },
            {
                "requirement": "20.2021年11月20日前完成主动公开基层目录编制,并统一在政府信息公开平台上对外发布。",
                "units": "局办公室",
            },
        ],
    },
    {
        "heading": "十一、提高依申请公开工作质量",
        "items": [
            {
                "requirement": "21.强化服务理念,把依申请公开工作作为服务人民群众生产生活、支持市场主体创业创新的重要方式,更好满足申请人对政府信息的个性化合理需求。",
                "units": "局办公室主办,各科室协办",
            },
            {
                "requirement": "22.启用新版依申请公开系统,认真按照政府信息公开申请办理答复规范要求,适用规范的文书模板,进一步建立健全政府信息公开申请登记、审核、办理、答复、归档工作制度,提升答复文书规范化程度。",
                "units": "局办公室主办,各科室协办",
            },
            {
                "requirement": "23.正确适用《政府信息公开信息处理费管理办法》,严格依照规定的标准、程序、方式计收信息处理费。",
                "units": "局办公室主办,财务科协办",
            },
        ],
    },
    {
        "heading": "十二、加强配套制度建设",
        "items": [
            {
                "requirement": "24.做好卫生健康领域的公共企事业单位信息公开工作,主动对接上级部门做好工作衔接开展,并建立专门的公共企事业单位信息公开监督工作制度,依法处理对公共企事业单位信息公开的申诉。",
                "units": "局办公室",
            },
            {
                "requirement": "25.严格落实《国务院办公厅政府信息与政务公开办公室关于政府信息公开年度报告有关事项的通知》(国办公开办函〔2019〕60号)文件要求,规范政府信息公开工作年度报告格式和内容,提高年报基础性数据的准确度,强化数据的分析提炼,多用图表形式向社会公开更多有价值的基础性数据,进一步提升政府信息公开工作年度报告质量。",
                "units": "局办公室",
            },
        ],
    },
    {
        "heading": "十三、加强工作指导",
        "items": [
            {
                "requirement": "26.本机关主要负责同志每年至少听取1次政务公开工作汇报,专题研究部署政务公开工作。",
                "units": "局办公室主办,各科室协办",
            },
            {
                "requirement": "27.加强队伍建设,定期组织开展政府信息公开工作培训和研讨交流,不断提升业务能力。加强基层政府政策解读、依申请公开工作业务培训和案例指导。",
                "units": "局办公室",
            },
        ],
    },
    {
        "heading": "十四、狠抓任务落实。",
        "items": [
            {
                "requirement": "28. 建立本部门2021年政务公开工作重点任务台账,明确具体分工、实时跟进推动,确保落实到位。",
                "units": "局办公室",
            },
            {
                "requirement": "29. 对上一年度工作要点落实情况开展“回头看”,重点针对有明确责任主体和时限要求的工作任务,逐项核查落实情况,对未完成的依法督促整改。",
                "units": "局办公室",
            },
            {
                "requirement": "30. 将本要点落实情况纳入政府信息公开工作年度报告予以公开,接受社会监督。",
                "units": "局办公室",
            },
        ],
    },
]


def yinchuan_sections() -> list[dict[str, Any]]:
    """A deep copy of the Yinchuan seed: sections with header and tasks (number, title, …)."""
    return copy.deepcopy(_YINCHUAN_SECTIONS)


def jiangmen_sections() -> list[dict[str, Any]]:
    """A deep copy of the Jiangmen seed: headings with items (requirement, units)."""
    return copy.deepcopy(_JIANGMEN_SECTIONS)


# -- low-level writers -------------------------------------------------------------------------
Cell = str | int | None


def write_xlsx(
    path: Path,
    rows: Sequence[Sequence[Cell]],
    merges: Sequence[str] = (),
    sheet: str = "台账",
    extra_sheets: dict[str, Sequence[Sequence[Cell]]] | None = None,
) -> Path:
    """Write rows to a sheet; ``merges`` are ranges such as "A1:G1" (value from the top-left)."""
    import openpyxl
    from openpyxl.styles import Alignment

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row, start=1):
            if value not in (None, ""):
                cell = ws.cell(r, c, value)
                if isinstance(value, str) and "\n" in value:
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
    for rng in merges:
        ws.merge_cells(rng)
    for name, extra in (extra_sheets or {}).items():
        other = wb.create_sheet(name)
        for row in extra:
            other.append(list(row))
    wb.save(path)
    return Path(path)


def write_csv(path: Path, rows: Sequence[Sequence[Cell]], encoding: str = "utf-8-sig") -> Path:
    with open(path, "w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh)
        for row in rows:
            writer.writerow(["" if v is None else v for v in row])
    return Path(path)


def _set_cell(cell, value: Cell, trailing_empty: int = 0) -> None:
    """Write ``value`` into a docx cell, one paragraph per line (plus empty paragraphs)."""
    lines = ("" if value is None else str(value)).split("\n")
    cell.text = lines[0]
    for line in [*lines[1:], *[""] * trailing_empty]:
        cell.add_paragraph(line)


def add_docx_table(
    document,
    rows: Sequence[Sequence[Cell]],
    merges: Sequence[tuple] = (),
    trailing: dict | None = None,
):
    """A table from rows; ``merges`` are (row1, col1, row2, col2) 0-based inclusive rectangles
    merged after writing (the text of the top-left cell stays); ``trailing`` maps (row, col) to a
    number of empty paragraphs Word leaves after the text."""
    width = max(len(r) for r in rows)
    table = document.add_table(rows=len(rows), cols=width)
    table.style = "Table Grid"
    covered = {
        (r, c)
        for r1, c1, r2, c2 in merges
        for r in range(r1, r2 + 1)
        for c in range(c1, c2 + 1)
        if (r, c) != (r1, c1)
    }
    for r, row in enumerate(rows):
        for c in range(width):
            if (r, c) not in covered:
                value = row[c] if c < len(row) else None
                _set_cell(table.cell(r, c), value, (trailing or {}).get((r, c), 0))
    for r1, c1, r2, c2 in merges:
        table.cell(r1, c1).merge(table.cell(r2, c2))
    return table


def write_docx(path: Path, blocks: Sequence[Any]) -> Path:
    """``blocks``: strings become paragraphs; dicts {"rows", "merges", "trailing"} become tables."""
    import docx

    document = docx.Document()
    for block in blocks:
        if isinstance(block, str):
            document.add_paragraph(block)
        else:
            add_docx_table(document, block["rows"], block.get("merges", ()), block.get("trailing"))
    document.save(str(path))
    return Path(path)


def build_encrypted_office_file(path: Path) -> Path:
    """An OLE2 compound file laid out as Office writes a password-protected .xlsx/.docx:
    a header, one FAT sector and a directory with Root Entry, EncryptionInfo and
    EncryptedPackage streams (their contents are random: nobody can open it without the key)."""
    import os

    sector = 512
    header = bytearray(sector)
    header[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into(
        "<HHHHH", header, 24, 0x3E, 3, 0xFFFE, 9, 6
    )  # minor, major, BOM, sector shift, mini shift
    struct.pack_into("<IIIIIIII", header, 40, 0, 1, 1, 0, 0x1000, 0xFFFFFFFE, 0, 0xFFFFFFFE)
    struct.pack_into("<I", header, 68, 0)
    struct.pack_into("<I", header, 72, 0)
    struct.pack_into("<I", header, 76, 0)  # DIFAT[0]: FAT in sector 0
    for i in range(1, 109):
        struct.pack_into("<I", header, 76 + 4 * i, 0xFFFFFFFF)
    fat = bytearray(b"\xff" * sector)
    # sector 0 = FAT, 1 = directory, 2..9 = EncryptionInfo (8 sectors), 10..17 = EncryptedPackage
    entries = (
        [0xFFFFFFFD, 0xFFFFFFFE]
        + list(range(3, 10))
        + [0xFFFFFFFE]
        + list(range(11, 18))
        + [0xFFFFFFFE]
    )
    for i, value in enumerate(entries):
        struct.pack_into("<I", fat, 4 * i, value)

    def entry(
        name: str,
        kind: int,
        start: int,
        size: int,
        child: int = 0xFFFFFFFF,
        right: int = 0xFFFFFFFF,
    ) -> bytes:
        raw = bytearray(128)
        encoded = (name + "\x00").encode("utf-16-le")
        raw[0 : len(encoded)] = encoded
        struct.pack_into("<HBB", raw, 64, len(encoded), kind, 1)
        struct.pack_into("<III", raw, 68, 0xFFFFFFFF, right, child)
        struct.pack_into("<II", raw, 116, start, 0)
        struct.pack_into("<I", raw, 120, size)
        return bytes(raw)

    directory = (
        entry("Root Entry", 5, 0xFFFFFFFE, 0, child=1)
        + entry("EncryptionInfo", 2, 2, 8 * sector, right=2)
        + entry("EncryptedPackage", 2, 10, 8 * sector)
        + bytes(128)
    )
    body = bytes(header) + bytes(fat) + directory + os.urandom(16 * sector)
    Path(path).write_bytes(body)
    return Path(path)


# -- Yinchuan (2023): 14 tasks in 4 sections ---------------------------------------------------
def _yinchuan_task_row(task: dict[str, Any]) -> list[Cell]:
    return [
        int(task["number"]),
        task["title"],
        task["content"],
        task["metric"],
        task["units"],
        task["deadline"],
        "",
    ]


def yinchuan_rows(
    sections: list[dict[str, Any]] | None = None,
) -> tuple[list[list[Cell]], list[str]]:
    """The Yinchuan ledger as sheet rows plus the merged ranges an office's workbook has."""
    sections = sections if sections is not None else yinchuan_sections()
    rows: list[list[Cell]] = [[YINCHUAN_TITLE], [YINCHUAN_INTRO], [YINCHUAN_FILL_LINE]]
    merges = ["A1:G1", "A2:G2", "A3:G3"]
    for index, section in enumerate(sections):
        rows.append([section["title"]])
        merges.append(f"A{len(rows)}:G{len(rows)}")
        rows.append(list(section["header"]))
        first = len(rows) + 1
        for task in section["tasks"]:
            rows.append(_yinchuan_task_row(task))
        last = len(rows)
        deadlines = {t["deadline"] for t in section["tasks"]}
        if index == 0 and len(deadlines) == 1 and last > first:
            merges.append(f"F{first}:F{last}")  # one 完成时限 cell for the whole section
            for r in range(first, last):
                rows[r][5] = None
        for r in range(first - 1, last - 1):  # equal consecutive unit cells merged down
            if rows[r][4] and rows[r][4] == rows[r + 1][4] and index == 2:
                merges.append(f"E{r + 1}:E{r + 2}")
                rows[r + 1][4] = None
                break
    return rows, merges


def build_yinchuan_xlsx(path: Path, sections: list[dict[str, Any]] | None = None) -> Path:
    rows, merges = yinchuan_rows(sections)
    return write_xlsx(path, rows, merges, sheet="任务落实台账", extra_sheets={"Sheet2": []})


def build_yinchuan_csv(
    path: Path, encoding: str = "utf-8-sig", sections: list[dict[str, Any]] | None = None
) -> Path:
    sections = sections if sections is not None else yinchuan_sections()
    rows: list[list[Cell]] = [[YINCHUAN_TITLE], [YINCHUAN_INTRO], [YINCHUAN_FILL_LINE]]
    for section in sections:
        rows.append([section["title"]])
        rows.append(list(section["header"]))
        rows.extend(_yinchuan_task_row(t) for t in section["tasks"])
    return write_csv(path, rows, encoding)


def build_yinchuan_docx(path: Path, sections: list[dict[str, Any]] | None = None) -> Path:
    """Sections 一/二 inside one table (section rows merged across), 三/四 as own tables."""
    sections = sections if sections is not None else yinchuan_sections()
    blocks: list[Any] = [YINCHUAN_TITLE, YINCHUAN_INTRO, YINCHUAN_FILL_LINE]
    first: dict[str, Any] = {"rows": [], "merges": [], "trailing": {}}
    for index, section in enumerate(sections):
        if index < 2:
            table = first
            table["rows"].append([section["title"]] + [None] * 6)
            r = len(table["rows"]) - 1
            table["merges"].append((r, 0, r, 6))
        else:
            if index == 2:
                blocks.append(first)
            blocks.append(section["title"])
            table = {"rows": [], "merges": [], "trailing": {}}
            blocks.append(table)
        table["rows"].append(list(section["header"]))
        for task in section["tasks"]:
            table["rows"].append(_yinchuan_task_row(task))
            if int(task["number"]) % 3 == 1:  # Word leaves empty paragraphs after the text
                table["trailing"][(len(table["rows"]) - 1, 2)] = 2
    if len(sections) < 3:
        blocks.append(first)
    blocks.append("（此页无正文）")
    return write_docx(path, blocks)


# -- Jiangmen (2021): 30 requirements under 14 headings ----------------------------------------
def jiangmen_rows(
    sections: list[dict[str, Any]] | None = None, merged: bool = True
) -> tuple[list[list[Cell]], list[tuple]]:
    """Header and rows; with ``merged`` the heading cell spans its requirements (row ranges
    returned 0-based, header = row 0), else continuation rows leave the heading cell empty."""
    sections = sections if sections is not None else jiangmen_sections()
    rows: list[list[Cell]] = [list(JIANGMEN_HEADER)]
    spans: list[tuple] = []
    for section in sections:
        start = len(rows)
        for i, item in enumerate(section["items"]):
            rows.append(
                [section["heading"] if i == 0 else None, item["requirement"], item["units"]]
            )
        if merged and len(rows) - 1 > start:
            spans.append((start, 0, len(rows) - 1, 0))
    return rows, spans


def build_jiangmen_docx(path: Path, sections: list[dict[str, Any]] | None = None) -> Path:
    rows, spans = jiangmen_rows(sections)
    return write_docx(path, [JIANGMEN_TITLE, {"rows": rows, "merges": spans}])


def build_jiangmen_xlsx(path: Path, sections: list[dict[str, Any]] | None = None) -> Path:
    rows, spans = jiangmen_rows(sections)
    merges = ["A1:C1"] + [f"A{r1 + 2}:A{r2 + 2}" for r1, _c1, r2, _c2 in spans]
    return write_xlsx(path, [[JIANGMEN_TITLE], *rows], merges, sheet="分工方案")


def build_jiangmen_csv(
    path: Path, encoding: str = "gbk", sections: list[dict[str, Any]] | None = None
) -> Path:
    rows, _ = jiangmen_rows(sections, merged=False)
    return write_csv(path, [[JIANGMEN_TITLE], *rows], encoding)


# -- unit directories that fit the seeds ---------------------------------------------------------
# (name, aliases, groups). Yinchuan's "委机关各科室" and "委属各单位" are groups; Jiangmen writes
# "局政法科" for 政法科 (normalized match), "局各科室"/"各科室" for its departments, "各工作组"
# for the epidemic working groups, and "局主办科室" for "the department in charge", which this
# office keeps as a group of its departments.
YINCHUAN_DIRECTORY = SAMPLE_DIRECTORY  # shipped with duban for the demo
YINCHUAN_OFFICES = [n for n, _, g in YINCHUAN_DIRECTORY if "委机关各科室" in g]
YINCHUAN_AFFILIATES = [n for n, _, g in YINCHUAN_DIRECTORY if "委属各单位" in g]

JIANGMEN_DIRECTORY: list[tuple[str, list[str], list[str]]] = [
    ("办公室", [], ["各科室", "主办科室"]),
    ("政法科", [], ["各科室", "主办科室"]),
    ("财务科", [], ["各科室", "主办科室"]),
    ("规划科", [], ["各科室", "主办科室"]),
    ("疾控科", [], ["各科室", "主办科室"]),
    ("宣教科", [], ["各科室", "主办科室"]),
    ("防控办", [], ["各科室"]),
    ("宣传科研组", [], ["各工作组"]),
    ("医疗救治组", [], ["各工作组"]),
]
JIANGMEN_DEPARTMENTS = [n for n, _, g in JIANGMEN_DIRECTORY if "各科室" in g]
JIANGMEN_HOSTS = [n for n, _, g in JIANGMEN_DIRECTORY if "主办科室" in g]
JIANGMEN_GROUPS = [n for n, _, g in JIANGMEN_DIRECTORY if "各工作组" in g]


def add_directory(session, directory: list[tuple[str, list[str], list[str]]], now=None) -> None:
    """Add the units of a directory above as the office would (``duban unit add``)."""
    from datetime import UTC, datetime

    from workflow.directory.roles import Caller
    from workflow.directory.units import add_unit

    when = now or datetime(2023, 1, 3, 9, 0, tzinfo=UTC)
    office = Caller(role="office", name="办公室")
    for name, aliases, groups in directory:
        add_unit(
            session,
            office,
            name,
            when,
            aliases=aliases,
            groups=groups,
            emails=[f"u{abs(hash(name)) % 10**6}@example.gov.cn"],
        )


# -- what importing the seeds must give, task by task (written out by hand) ---------------------
# Units after resolution against the directories above; roles lead / responsible / cooperating.
# number → (section, title, units, due dates, deadline_text)
def _resp(*names: str) -> list[tuple[str, str]]:
    return [(n, "responsible") for n in names]


def _lead_coop(leads: list[str], group: list[str]) -> list[tuple[str, str]]:
    return [(n, "lead") for n in leads] + [(n, "cooperating") for n in group if n not in leads]


Y_S1 = "一、围绕重点领域，加大主动公开力度"
Y_S2 = "二、强化重要政策发布，加大同步解读力度"
Y_S3 = "三、畅通平台渠道，加大信息互动力度"
Y_S4 = "四、强化平台建设，加大制度执行力度"
Y_NOV = ["2023-11-30"]
_ALL = [*YINCHUAN_OFFICES, *YINCHUAN_AFFILIATES]
_WEB = ["办公室", "宣传与对外交流合作科"]

# number → (section, title, units, due dates, deadline_text)
YINCHUAN: dict[str, tuple[str, str, list[tuple[str, str]], list[str], str]] = {
    "1": (Y_S1, "抓好重点领域信息公开", _resp("人口发展与妇幼健康科"), Y_NOV, "11月"),
    "2": (Y_S1, "抓好医疗卫生信息公开", _resp(*_ALL), Y_NOV, "11月"),
    "3": (Y_S1, "抓好自身建设信息公开", _resp("财务审计科", "法规与综合监督科", "办公室"), Y_NOV, "11月"),
    "4": (Y_S1, "抓好公共卫生知识的宣传普及", _resp("健康综合科"), Y_NOV, "11月"),
    "5": (Y_S1, "抓好民生领域信息公开", _resp(*_ALL), Y_NOV, "11月"),
    "6": (Y_S2, "加强政策文件精准发布", _resp(*YINCHUAN_OFFICES), Y_NOV, "11月"),
    "7": (Y_S2, "提升政策解读质量", _resp(*YINCHUAN_OFFICES), Y_NOV, "11月"),
    "8": (Y_S3, "常态开展政府开放日活动", _resp("办公室", "宣传与对外交流合作科", "督查督办科"), Y_NOV, "11月"),
    "9": (Y_S3, "规范依申请公开办理", _resp(*YINCHUAN_OFFICES), Y_NOV, "11月"),
    "10": (Y_S3, "畅通公众参与渠道", _resp(*YINCHUAN_OFFICES), Y_NOV, "11月"),
    "11": (Y_S4, "夯实政府网站建设管理", _resp(*_WEB), Y_NOV, "11月"),
    "12": (Y_S4, "推动政务新媒体有序运行", _resp(*_WEB), Y_NOV, "11月"),
    "13": (Y_S4, "坚持正向激励", _resp("办公室"), ["2023-07-31", "2023-11-30"], "长期坚持"),
    "14": (Y_S4, "汇编任务落实台账", _resp("办公室"), Y_NOV, "11月"),
}  # fmt: skip

J_END = ["2021-12-31"]
# month ends of 2021 rolled back to the last working day (Jan 31, Feb 28, Jul 31, Oct 31 are days off)
J_MONTHLY = [
    "2021-01-29", "2021-02-26", "2021-03-31", "2021-04-30", "2021-05-31", "2021-06-30",
    "2021-07-30", "2021-08-31", "2021-09-30", "2021-10-29", "2021-11-30", "2021-12-31",
]  # fmt: skip
J = [
    "一、做好行政执法信息公开", "二、做好财政信息公开", "三、做好政府网站专栏信息公开",
    "四、做好常态化疫情防控信息公开", "五、持续加强重大政策发布解读", "六、不断改进政策解读工作方式",
    "七、切实增强回应关切效果", "八、做好政务信息管理工作", "九、完善政务公开平台",
    "十、推进基层政务公开标准化规范化", "十一、提高依申请公开工作质量", "十二、加强配套制度建设",
    "十三、加强工作指导", "十四、狠抓任务落实",
]  # fmt: skip
_OFFICE_LEADS = _lead_coop(["办公室"], JIANGMEN_DEPARTMENTS)

# number → (section, title, units, due dates, deadline_text)
JIANGMEN: dict[str, tuple[str, str, list[tuple[str, str]], list[str], str | None]] = {
    "1": (J[0], "加强行政执法信息公开", _resp("政法科"), J_END, None),
    "2": (J[1], "推进本机关预算、决算及相关报表公开", _resp("财务科"), J_END, None),
    "3": (J[2], "每年至少更新一次“开放江门”数据集", _resp("规划科"), J_END, "每年至少更新一次"),
    "4": (J[2], "及时反馈网民对调查征集信息的意见", _resp(*JIANGMEN_HOSTS), J_END, None),
    "5": (J[3], "设立专栏", _lead_coop(["防控办"], JIANGMEN_GROUPS), J_MONTHLY, "每月"),
    "6": (J[3], "扎实做好疫苗接种信息公开和舆论引导工作", _resp("疾控科"), J_END, None),
    "7": (J[3], "提高新冠肺炎防控信息发布规范化水平,强化政府系统内部信息整合,统一步调对外发声", _resp("宣传科研组"), J_END, None),
    "8": (J[3], "做好爱国卫生运动、健康中国行动等相关工作的信息公开", _resp("规划科"), J_END, None),
    "9": (J[4], "综合运用新闻发布会、在线访谈、图文动画、短视频等形式", _resp(*JIANGMEN_HOSTS), J_END, None),
    "10": (J[5], "按照《江门市政府系统政策解读工作细则(试行)》相关要求,健全政策解读工作机制,规范工作流程,确保解读方案、解读材料与政策文件同步组织、同步审签、同步部署", _resp(*JIANGMEN_HOSTS), J_END, None),
    "11": (J[5], "加强政策咨询服务", _resp(*JIANGMEN_HOSTS), J_END, None),
    "12": (J[5], "加强内部协调工作,修订本单位政府信息公开指南,明确对外告知政府信息公开渠道", _resp("办公室"), J_END, None),
    "13": (J[6], "密切关注疫情防控、医疗等方面的舆情并及时作出回应,助力防范化解重大风险", _resp("宣教科"), J_END, None),
    "14": (J[6], "提前做好重大政策发布前和发布后的解读回应工作,注意收集相关舆情", _resp(*JIANGMEN_HOSTS), J_END, None),
    "15": (J[6], "认真做好政务舆情(政务新媒体后台留言)和“省长留言信箱”“12345”政府热线等各类留言信息的办理工作", _lead_coop(["宣教科", "办公室"], JIANGMEN_DEPARTMENTS), J_END, None),
    "16": (J[6], "建立舆情回应台账管理制度", _resp("宣教科"), J_END, None),
    "17": (J[7], "对照中国政府法制信息网行政法规库公布的行政法规和国家正式版本,在本机关网站(部门频道)上及时更新本系统实施的行政法规文本", _resp(*JIANGMEN_DEPARTMENTS), J_END, None),
    "18": (J[8], "不断完善政务新媒体监管机制", _lead_coop(["宣教科"], JIANGMEN_DEPARTMENTS), J_END, None),
    "19": (J[9], "本机关已出台卫生健康领域基层政务公开标准指引", _OFFICE_LEADS, J_END, None),
    "20": (J[9], "2021年11月20日前完成主动公开基层目录编制", _resp("办公室"), ["2021-11-22"], "2021年11月20日前"),  # a Saturday: the next working day
    "21": (J[10], "强化服务理念", _OFFICE_LEADS, J_END, None),
    "22": (J[10], "启用新版依申请公开系统", _OFFICE_LEADS, J_END, None),
    "23": (J[10], "正确适用《政府信息公开信息处理费管理办法》", _lead_coop(["办公室"], ["财务科"]), J_END, None),
    "24": (J[11], "做好卫生健康领域的公共企事业单位信息公开工作", _resp("办公室"), J_END, None),
    "25": (J[11], "严格落实《国务院办公厅政府信息与政务公开办公室关于政府信息公开年度报告有关事项的通知》(国办公开办函〔2019〕60号)文件要求", _resp("办公室"), J_END, None),
    "26": (J[12], "本机关主要负责同志每年至少听取1次政务公开工作汇报,专题研究部署政务公开工作", _OFFICE_LEADS, J_END, "每年至少听取1次"),
    "27": (J[12], "加强队伍建设,定期组织开展政府信息公开工作培训和研讨交流,不断提升业务能力", _resp("办公室"), J_END, None),
    "28": (J[13], "建立本部门2021年政务公开工作重点任务台账", _resp("办公室"), J_END, None),
    "29": (J[13], "对上一年度工作要点落实情况开展“回头看”", _resp("办公室"), J_END, None),
    "30": (J[13], "将本要点落实情况纳入政府信息公开工作年度报告予以公开,接受社会监督", _resp("办公室"), J_END, None),
}  # fmt: skip
