"""The partial address mask shows the province and the prefecture-level city, never more.

QA, session 26: the mask kept everything up to the first 市, 盟, 地区 or 自治州, so an address
whose city was written without 市 showed its district, street and house number wherever a
building, estate or street name held one (城市花园, 超市, 联盟路)."""

from __future__ import annotations

import random

import pytest
from faker import Faker

from privacy.masking import mask_quoted, partial_address

KEY = b"k" * 32


@pytest.mark.parametrize(
    ("address", "shown"),
    [
        # The QA report's addresses (shown before: "北京朝阳区建国路88号SOHO现代城市***", ...).
        ("北京朝阳区建国路88号SOHO现代城市场部", "北京***"),
        ("深圳南山区万科城市花园3栋1201", "深圳***"),
        ("朝阳区三里屯路19号院超市楼上2单元301", "***"),
        ("上海浦东新区联盟路100弄5号602", "上海***"),
        ("广州天河区体育西路103号维多利广场B座2301", "广州***"),
        ("Room 1201, 88 Jianguo Road, Chaoyang, Beijing", "***"),
        ("内蒙古自治区呼和浩特市新城区", "内蒙古自治区呼和浩特市***"),
        ("杭州西湖区文三路90号东部软件园科技大厦1号楼", "杭州***"),
        ("香港特别行政区九龙塘达之路78号", "香港特别行政区***"),
        ("广东省深圳市南山区科技园", "广东省深圳市***"),
        # Municipalities, with and without 市; nothing after them is a city.
        ("北京市朝阳区建国路88号", "北京市***"),
        ("天津和平区南京路189号", "天津***"),
        ("重庆市渝中区解放碑超市2楼", "重庆市***"),
        # A bare name followed by no county-level name is a street, not a place.
        ("北京路100号城市广场", "***"),
        ("中山路5号联盟大厦", "***"),
        ("南京西路1266号恒隆广场", "***"),
        ("广东深圳湾一号T7栋", "***"),
        # Autonomous regions and prefectures, leagues, prefectures (地区), in full and short.
        ("新疆维吾尔自治区乌鲁木齐市天山区", "新疆维吾尔自治区乌鲁木齐市***"),
        ("新疆伊犁州伊宁市解放路超市", "新疆伊犁州***"),
        ("内蒙古锡林郭勒盟锡林浩特市联盟路3号", "内蒙古锡林郭勒盟***"),
        ("西藏自治区阿里地区噶尔县狮泉河镇", "西藏自治区阿里地区***"),
        ("湖北省恩施土家族苗族自治州恩施市舞阳大街", "湖北省恩施土家族苗族自治州***"),
        ("海南藏族自治州共和县", "海南藏族自治州***"),
        ("广西南宁青秀区民族大道城市花园", "广西南宁***"),
        # A province and a city it cannot tell: the province alone.
        ("广东省某某县城市花园8栋", "广东省***"),
        ("浙江省义乌稠城街道超市5号", "浙江省***"),
        ("吉林省吉林市船营区", "吉林省吉林市***"),
        ("中国广东省深圳市南山区", "中国广东省深圳市***"),
        ("广东省 深圳市 南山区科技园", "广东省 深圳市***"),
    ],
)
def test_partial_shows_at_most_the_province_and_the_city(address: str, shown: str) -> None:
    assert partial_address(address) == shown


def _written(fake: Faker, rng: random.Random) -> tuple[str, str, str]:
    """(province, city, the rest) of an address, each as some customer would write it: the
    province in full, bare or left out; the city with its suffix or bare; districts, streets
    and buildings with and without the suffixes a regex might take for a city's."""
    province = rng.choice([fake.province(), fake.province().rstrip("省市"), ""])
    city = fake.city()
    city = rng.choice([city, city[:-1]])
    district = fake.district() + rng.choice(["区", "县", "", "新区"])
    street = fake.street_address() + rng.choice(["", "城市花园", "超市楼上", "市场部"])
    estate = rng.choice(["", "联盟路", "地区中心", "自治州大厦", "市"]) + str(rng.randint(1, 999))
    return province, city, f"{district}{estate}{street}{rng.randint(1, 30)}栋"


def test_no_street_or_number_survives_for_many_generated_addresses() -> None:
    fake, rng = Faker("zh_CN"), random.Random(26)
    fake.seed_instance(26)
    kept_cities = 0
    for _ in range(5_000):
        province, city, rest = _written(fake, rng)
        address = province + city + rest
        shown = partial_address(address)
        assert shown.endswith("***"), (address, shown)
        kept = shown.removesuffix("***")
        # Nothing past the city as written (Faker's "兴安盟市" shows as "兴安盟").
        within = (province + city).startswith(kept) and kept.startswith(province)
        assert kept == "" or within, (address, shown)
        kept_cities += bool(city) and kept == province + city
    assert kept_cities > 500  # known cities are shown, not just dropped


def test_a_note_quoting_the_customers_address_shows_it_as_the_field() -> None:
    own = {"NAME": "许桂芝", "ADDRESS": "深圳南山区万科城市花园3栋1201"}
    note = "许桂芝来电，住址深圳南山区万科城市花园3栋1201，要求上门"
    modes = {"NAME": "partial", "ADDRESS": "partial", "PHONE": "partial"}
    modes |= {"EMAIL": "redact", "NATIONAL_ID": "redact", "SOCIAL_HANDLE": "redact"}
    assert mask_quoted(note, modes, KEY, own) == "许**来电，住址深圳***，要求上门"
