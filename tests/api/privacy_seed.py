"""A small book for privacy tests: two advisors, consenting and non-consenting customers, one
household and one joint account that mix the two, written with the repositories' upserts.

Every personal value is distinctive, so a test can assert it appears nowhere in a raw body.
"""

from __future__ import annotations

from dataclasses import dataclass

from graph.repositories.accounts import upsert_accounts, upsert_holdings
from graph.repositories.advisors import upsert_advisors
from graph.repositories.customers import link_related, upsert_customers
from graph.repositories.households import upsert_households
from graph.store import GraphStore


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    phone: str  # E.164 as stored
    national: str  # the phone as typed in China
    id_number: str
    email: str
    consent: bool
    advisor: str
    assets: float

    @property
    def secrets(self) -> tuple[str, ...]:
        """Values that must never reach a caller who may not see this customer."""
        return (self.name, self.national, self.id_number, self.email)


ADVISOR_1, ADVISOR_2 = "pv-adv1", "pv-adv2"
# Consenting, managed by advisor 1, head of a household with a non-consenting spouse.
OUYANG = Person("pv-c1", "欧阳明轩", "+8613812345678", "13812345678", "110105198506150011",
                "mingxuan@example.cn", True, ADVISOR_1, 2_500_000.0)  # fmt: skip
# Non-consenting, advisor 1, same household and related to OUYANG, co-owns his joint account.
SIMA = Person("pv-c2", "司马静怡", "+8613912345679", "13912345679", "110105199001020022",
              "jingyi@example.cn", False, ADVISOR_1, 300_000.0)  # fmt: skip
# Consenting, advisor 2.
ZHUGE = Person("pv-c3", "诸葛云飞", "+8613712345670", "13712345670", "310101197703030033",
               "yunfei@example.cn", True, ADVISOR_2, 50_000.0)  # fmt: skip
# Non-consenting, advisor 2.
SHANGGUAN = Person("pv-c4", "上官雪晴", "+8615012345671", "15012345671", "440301198812120044",
                   "xueqing@example.cn", False, ADVISOR_2, 1_200_000.0)  # fmt: skip

PEOPLE = (OUYANG, SIMA, ZHUGE, SHANGGUAN)
HOUSEHOLD = "pv-hh"
# SHANGGUAN's alone: its name ("上官家", as the demo names households) is her surname.
HIDDEN_HOUSEHOLD = "pv-hh2"


def _props(p: Person) -> dict[str, object]:
    return {
        "name": p.name,
        "gender": "F",
        "birthDate": "1985-06-15",
        "idNumber": p.id_number,
        "phone": p.phone,
        "email": p.email,
        "address": "北京市朝阳区建国路88号",
        "createdAt": "2020-01-01T00:00:00Z",
        "consentMarketing": p.consent,
        "consentDataSharing": False,
    }


async def seed_privacy_book(store: GraphStore) -> None:
    await upsert_advisors(
        store,
        [
            {"id": ADVISOR_1, "props": {"name": "王顾问"}, "branchId": "pv-br1"},
            {"id": ADVISOR_2, "props": {"name": "赵顾问"}, "branchId": "pv-br2"},
        ],
    )
    await upsert_customers(
        store, [{"id": p.id, "props": _props(p), "advisorId": p.advisor} for p in PEOPLE]
    )
    await upsert_households(
        store,
        [
            {"id": HOUSEHOLD, "props": {"name": "欧阳家"}, "customerId": OUYANG.id, "role": "HEAD"},
            {"id": HOUSEHOLD, "props": {}, "customerId": SIMA.id, "role": "SPOUSE"},
            {
                "id": HIDDEN_HOUSEHOLD,
                "props": {"name": "上官家"},
                "customerId": SHANGGUAN.id,
                "role": "HEAD",
            },
        ],
    )
    await link_related(store, [{"fromId": OUYANG.id, "toId": SIMA.id, "kind": "SPOUSE"}])
    await upsert_accounts(
        store,
        [
            {
                "id": f"{p.id}-acc",
                "customerId": p.id,
                "props": {
                    "type": "SAVINGS",
                    "balance": p.assets,
                    "currency": "CNY",
                    "openedAt": "2020-01-01T00:00:00Z",
                    "status": "ACTIVE",
                },
            }
            for p in PEOPLE
        ],
    )
    await upsert_holdings(
        store, [{"customerId": SIMA.id, "accountId": f"{OUYANG.id}-acc", "role": "JOINT"}]
    )


__all__ = [
    "ADVISOR_1",
    "ADVISOR_2",
    "HIDDEN_HOUSEHOLD",
    "HOUSEHOLD",
    "OUYANG",
    "PEOPLE",
    "SHANGGUAN",
    "SIMA",
    "ZHUGE",
    "Person",
    "seed_privacy_book",
]
