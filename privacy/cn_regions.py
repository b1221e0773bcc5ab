"""The province and prefecture-level city an address starts with, by name: the part of a
Chinese address a partial mask may show (privacy.masking.partial_address).

Only names in the tables below count. A regex "up to the first 市" showed the street and the
house number of every address whose city was written without 市 and whose building had one
(``北京朝阳区建国路88号SOHO现代城市场部`` -> ``北京朝阳区建国路88号SOHO现代城市***``, QA session
26): 市, 盟, 地区 and 自治州 also occur in street, estate and shop names (城市花园, 超市, 联盟路).

A name written without its suffix (``深圳``, ``北京``, ``广东``) counts only where a county-level
name follows it (``深圳南山区``), or, for a province, a known city: ``北京路``, ``中山路`` and
``南京西路`` are streets. What cannot be told is left out (fail closed): the province alone,
or nothing.
"""

from __future__ import annotations

import re

__all__ = ["province_and_city"]

# (full name, short name) of the provincial-level divisions. Municipalities and special
# administrative regions are their own city: nothing after them is shown.
_PROVINCES = [
    ("河北省", "河北"), ("山西省", "山西"), ("辽宁省", "辽宁"), ("吉林省", "吉林"),
    ("黑龙江省", "黑龙江"), ("江苏省", "江苏"), ("浙江省", "浙江"), ("安徽省", "安徽"),
    ("福建省", "福建"), ("江西省", "江西"), ("山东省", "山东"), ("河南省", "河南"),
    ("湖北省", "湖北"), ("湖南省", "湖南"), ("广东省", "广东"), ("海南省", "海南"),
    ("四川省", "四川"), ("贵州省", "贵州"), ("云南省", "云南"), ("陕西省", "陕西"),
    ("甘肃省", "甘肃"), ("青海省", "青海"), ("内蒙古自治区", "内蒙古"),
    ("广西壮族自治区", "广西"), ("西藏自治区", "西藏"), ("宁夏回族自治区", "宁夏"),
    ("新疆维吾尔自治区", "新疆"),
]  # fmt: skip
_MUNICIPALITIES = [("北京市", "北京"), ("上海市", "上海"), ("天津市", "天津"), ("重庆市", "重庆")]
# Shown as the province only (their cities are not in the tables below).
_REGIONS = [("香港特别行政区", "香港"), ("澳门特别行政区", "澳门"), ("台湾省", "台湾")]

# Prefecture-level cities (and the county-level cities a province administers directly, which
# take a city's place in an address), written "<name>市"; by province, in the official order.
_CITY_TABLE = """
石家庄 唐山 秦皇岛 邯郸 邢台 保定 张家口 承德 沧州 廊坊 衡水
太原 大同 阳泉 长治 晋城 朔州 晋中 运城 忻州 临汾 吕梁
呼和浩特 包头 乌海 赤峰 通辽 鄂尔多斯 呼伦贝尔 巴彦淖尔 乌兰察布
沈阳 大连 鞍山 抚顺 本溪 丹东 锦州 营口 阜新 辽阳 盘锦 铁岭 朝阳 葫芦岛
长春 吉林 四平 辽源 通化 白山 松原 白城
哈尔滨 齐齐哈尔 鸡西 鹤岗 双鸭山 大庆 伊春 佳木斯 七台河 牡丹江 黑河 绥化
南京 无锡 徐州 常州 苏州 南通 连云港 淮安 盐城 扬州 镇江 泰州 宿迁
杭州 宁波 温州 嘉兴 湖州 绍兴 金华 衢州 舟山 台州 丽水
合肥 芜湖 蚌埠 淮南 马鞍山 淮北 铜陵 安庆 黄山 滁州 阜阳 宿州 六安 亳州 池州 宣城
福州 厦门 莆田 三明 泉州 漳州 南平 龙岩 宁德
南昌 景德镇 萍乡 九江 新余 鹰潭 赣州 吉安 宜春 抚州 上饶
济南 青岛 淄博 枣庄 东营 烟台 潍坊 济宁 泰安 威海 日照 临沂 德州 聊城 滨州 菏泽
郑州 开封 洛阳 平顶山 安阳 鹤壁 新乡 焦作 濮阳 许昌 漯河 三门峡 南阳 商丘 信阳 周口 驻马店
济源
武汉 黄石 十堰 宜昌 襄阳 鄂州 荆门 孝感 荆州 黄冈 咸宁 随州 仙桃 潜江 天门
长沙 株洲 湘潭 衡阳 邵阳 岳阳 常德 张家界 益阳 郴州 永州 怀化 娄底
广州 韶关 深圳 珠海 汕头 佛山 江门 湛江 茂名 肇庆 惠州 梅州 汕尾 河源 阳江 清远 东莞 中山
潮州 揭阳 云浮
南宁 柳州 桂林 梧州 北海 防城港 钦州 贵港 玉林 百色 贺州 河池 来宾 崇左
海口 三亚 三沙 儋州
成都 自贡 攀枝花 泸州 德阳 绵阳 广元 遂宁 内江 乐山 南充 眉山 宜宾 广安 达州 雅安 巴中 资阳
贵阳 六盘水 遵义 安顺 毕节 铜仁
昆明 曲靖 玉溪 保山 昭通 丽江 普洱 临沧
拉萨 日喀则 昌都 林芝 山南 那曲
西安 铜川 宝鸡 咸阳 渭南 延安 汉中 榆林 安康 商洛
兰州 嘉峪关 金昌 白银 天水 武威 张掖 平凉 酒泉 庆阳 定西 陇南
西宁 海东
银川 石嘴山 吴忠 固原 中卫
乌鲁木齐 克拉玛依 吐鲁番 哈密 石河子
"""
_CITIES = _CITY_TABLE.split()
# Prefectures (地区) and leagues (盟).
_DISTRICTS = ["大兴安岭", "阿里", "阿克苏", "喀什", "和田", "塔城", "阿勒泰"]
_LEAGUES = ["兴安", "锡林郭勒", "阿拉善"]
# Autonomous prefectures: (short name, full name); also written "<short>州" (恩施州).
_PREFECTURES = [
    ("延边", "延边朝鲜族自治州"), ("恩施", "恩施土家族苗族自治州"),
    ("湘西", "湘西土家族苗族自治州"), ("阿坝", "阿坝藏族羌族自治州"), ("甘孜", "甘孜藏族自治州"),
    ("凉山", "凉山彝族自治州"), ("黔西南", "黔西南布依族苗族自治州"),
    ("黔东南", "黔东南苗族侗族自治州"), ("黔南", "黔南布依族苗族自治州"),
    ("楚雄", "楚雄彝族自治州"), ("红河", "红河哈尼族彝族自治州"), ("文山", "文山壮族苗族自治州"),
    ("西双版纳", "西双版纳傣族自治州"), ("大理", "大理白族自治州"),
    ("德宏", "德宏傣族景颇族自治州"), ("怒江", "怒江傈僳族自治州"), ("迪庆", "迪庆藏族自治州"),
    ("临夏", "临夏回族自治州"), ("甘南", "甘南藏族自治州"), ("海北", "海北藏族自治州"),
    ("黄南", "黄南藏族自治州"), ("海南", "海南藏族自治州"), ("果洛", "果洛藏族自治州"),
    ("玉树", "玉树藏族自治州"), ("海西", "海西蒙古族藏族自治州"),
    ("昌吉", "昌吉回族自治州"), ("博尔塔拉", "博尔塔拉蒙古自治州"),
    ("巴音郭楞", "巴音郭楞蒙古自治州"), ("克孜勒苏", "克孜勒苏柯尔克孜自治州"),
    ("伊犁", "伊犁哈萨克自治州"),
]  # fmt: skip


def _alternatives(names: list[str]) -> re.Pattern[str]:
    """One name of ``names`` at a position, the longest that fits, with the spaces before it."""
    ordered = sorted(set(names), key=len, reverse=True)
    return re.compile(r"\s*(?:" + "|".join(map(re.escape, ordered)) + ")")


_PROVINCE_FULL = _alternatives([full for full, _ in _PROVINCES])
_PROVINCE_SHORT = _alternatives([short for _, short in _PROVINCES])
_OWN_CITY_FULL = _alternatives([full for full, _ in _MUNICIPALITIES + _REGIONS])
_OWN_CITY_SHORT = _alternatives([short for _, short in _MUNICIPALITIES])
_CITY_FULL = _alternatives(
    [f"{name}市" for name in _CITIES]
    + [f"{name}地区" for name in _DISTRICTS]
    + [f"{name}盟" for name in _LEAGUES]
    + [full for _, full in _PREFECTURES]
    + [f"{short}州" for short, _ in _PREFECTURES]
)
_CITY_SHORT = _alternatives(_CITIES + _DISTRICTS + _LEAGUES + [s for s, _ in _PREFECTURES])
# What makes a bare name an administrative one: a county-level name right after it (南山区,
# 浦东新区, 昆山市, 科尔沁右翼前旗), Han characters that are no part of a street, building or
# village name, at most six of them. Never shown: it only tells ``深圳南山区`` (a city) from
# ``中山路`` (a street).
_NOT_COUNTY = "路街巷弄胡同号楼栋座院室层村镇乡区县市旗"
_COUNTY = re.compile(rf"\s*(?:(?![{_NOT_COUNTY}])[\u4e00-\u9fff]){{1,6}}?[区县市旗]")


def _bare(name: re.Pattern[str], text: str, at: int, then: re.Pattern[str]) -> int | None:
    """The end of a bare ``name`` at ``at`` when ``then`` follows it, else None."""
    match = name.match(text, at)
    if match is None or then.match(text, match.end()) is None:
        return None
    return match.end()


def _city(text: str, at: int) -> int | None:
    """The end of a prefecture-level city's name at ``at`` (full, or bare before a county)."""
    full = _CITY_FULL.match(text, at)
    return full.end() if full else _bare(_CITY_SHORT, text, at, _COUNTY)


def province_and_city(address: str) -> str:
    """The start of ``address`` naming its province and prefecture-level city, as written
    ("广东省深圳市南山区..." -> "广东省深圳市", "深圳南山区..." -> "深圳", "北京朝阳区..." ->
    "北京"); only the province, or "", when the next name is none the tables know."""
    text = address.strip()
    start = 2 if text.startswith("中国") else 0
    own = _OWN_CITY_FULL.match(text, start)
    if own:
        return text[: own.end()]
    end = _bare(_OWN_CITY_SHORT, text, start, _COUNTY)
    if end is not None:
        return text[:end]
    province = _PROVINCE_FULL.match(text, start)
    at = province.end() if province else start
    if province is None:
        # A bare province name counts only before a city it is known to be followed by.
        short = _PROVINCE_SHORT.match(text, start)
        if short and _city(text, short.end()) is not None:
            at = short.end()
    end = _city(text, at)
    kept = end if end is not None else at
    return text[:kept] if kept > start else ""
