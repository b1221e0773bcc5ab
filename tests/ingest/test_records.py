"""Import models: normalisation, row shapes for the repositories, and safe error reasons."""

import pytest
from pydantic import ValidationError

from ingest.records import (
    AccountRecord,
    AdvisorRecord,
    CustomerRecord,
    HouseholdRecord,
    InteractionRecord,
    TransactionRecord,
    validation_reasons,
)
from shared.records import AMBIGUOUS_AMOUNT

ID = "11010519491231002X"


def _reasons(model: type, data: dict) -> list[str]:
    with pytest.raises(ValidationError) as info:
        model.model_validate(data)
    assert "input_value" not in str(info.value)  # pydantic hides the inputs
    return validation_reasons(info.value)


@pytest.mark.parametrize(("raw", "code"), [("男", "M"), ("女", "F"), ("male", "M"), ("f", "F")])
def test_gender_aliases(raw: str, code: str) -> None:
    assert CustomerRecord.model_validate({"id": "C1", "gender": raw}).gender == code


def test_customer_row_has_only_given_fields() -> None:
    record = CustomerRecord.model_validate(
        {"id": " C1 ", "phone": "138 1234 5678", "email": "", "riskProfile": "aggressive",
         "consentMarketing": "否", "advisorId": "ADV1", "createdAt": "2024-01-01 08:00"}
    )  # fmt: skip
    assert record.to_graph_row() == {
        "id": "C1",
        "props": {
            "phone": "+8613812345678",
            "riskProfile": "激进",
            "createdAt": "2024-01-01T00:00:00Z",
            "consentMarketing": False,
        },
        "advisorId": "ADV1",
    }


def test_id_and_birth_date_must_agree() -> None:
    ok = CustomerRecord.model_validate({"id": "C1", "idNumber": ID, "birthDate": "1949/12/31"})
    assert ok.birthDate == "1949-12-31"
    reasons = _reasons(CustomerRecord, {"id": "C1", "idNumber": ID, "birthDate": "1950-01-01"})
    assert reasons == ["birthDate: does not match the birth date in idNumber"]


def test_reasons_name_fields_and_never_echo_values() -> None:
    reasons = _reasons(
        CustomerRecord,
        {"id": "C1", "phone": "19999999", "idNumber": "110105194912310021", "email": "a@b"},
    )
    assert reasons == [
        "idNumber: ID number check digit does not match (GB 11643)",
        "phone: not a valid CN mobile or landline number",
        "email: not a valid email address",
    ]
    assert not any(v in r for r in reasons for v in ("19999999", "110105194912310021", "a@b"))
    assert _reasons(CustomerRecord, {"name": "x"}) == ["id: missing (a value is required)"]


def test_account_currency_only_when_given() -> None:
    # The import gives a balance without one the stored account's (ingest.currencies).
    row = AccountRecord.model_validate({"id": "A1", "balance": "¥1,200.50", "type": "loan"})
    assert row.to_graph_row() == {"id": "A1", "props": {"type": "LOAN", "balance": 1200.5}}
    assert AccountRecord.model_validate({"id": "A1", "status": "closed"}).to_graph_row() == {
        "id": "A1",
        "props": {"status": "CLOSED"},
    }


@pytest.mark.parametrize(
    ("raw", "amount"),
    [("1,234.50", 1234.5), ("¥1234.5", 1234.5), ("1234,5", 1234.5), ("1.234,56", 1234.56),
     ("-0,75", -0.75), ("1,234", 1234.0)],
)  # fmt: skip
def test_amounts_with_thousands_or_a_decimal_comma(raw: str, amount: float) -> None:
    row = AccountRecord.model_validate({"id": "A1", "balance": raw}).to_graph_row()
    assert row["props"]["balance"] == amount


def test_an_amount_with_commas_that_fit_no_convention_is_rejected() -> None:
    # Read as 123456 before: a comma was dropped wherever it stood.
    assert _reasons(AccountRecord, {"id": "A1", "balance": "1,23,456"})[0].startswith("balance:")


def test_transaction_rules() -> None:
    good = TransactionRecord.model_validate(
        {"id": "T1", "accountId": "A1", "amount": "10", "time": "2025-01-01T00:00:00Z",
         "kind": "fee"}
    )  # fmt: skip
    assert good.to_graph_row()["props"] == {
        "amount": 10.0, "time": "2025-01-01T00:00:00Z", "kind": "FEE"
    }  # fmt: skip
    reasons = _reasons(
        TransactionRecord, {"id": "T1", "accountId": "A1", "amount": 0, "time": "x", "kind": "X"}
    )
    assert [r.split(":")[0] for r in reasons] == ["amount", "time", "kind"]


def test_interaction_household_advisor_rows() -> None:
    interaction = InteractionRecord.model_validate(
        {"id": "I1", "customerId": "C1", "satisfaction": "4", "resolved": "是", "productCode": "P"}
    )
    assert interaction.to_graph_row() == {
        "id": "I1", "customerId": "C1", "props": {"satisfaction": 4, "resolved": True},
        "productCode": "P",
    }  # fmt: skip
    assert _reasons(InteractionRecord, {"id": "I1", "customerId": "C1", "satisfaction": 6}) == [
        "satisfaction: Input should be less than or equal to 5"
    ]
    household = HouseholdRecord.model_validate({"id": "H1", "customerId": "C1"})
    assert household.to_graph_row() == {
        "id": "H1",
        "props": {},
        "customerId": "C1",
        "role": "MEMBER",
    }
    advisor = AdvisorRecord.model_validate({"id": "A", "branchId": "B", "branchCity": "北京市"})
    assert advisor.to_graph_row() == {
        "id": "A", "props": {}, "branchId": "B", "branch": {"city": "北京市"}
    }  # fmt: skip


def _tx(**fields: object) -> dict[str, object]:
    return {"id": "T1", "accountId": "A1", "time": "2025-01-01", "kind": "FEE", **fields}


@pytest.mark.parametrize(
    ("amount", "currency", "unit"),
    [("0.004", "CNY", "0.01"), ("1.005", "CNY", "0.01"), ("0.0000001", "CNY", "0.01"),
     ("1.5", "JPY", "1"), ("2.0001", "KWD", "0.001"), (0.004, "USD", "0.01")],
)  # fmt: skip
def test_amounts_finer_than_the_currency_are_refused_never_rounded(
    amount: object, currency: str, unit: str
) -> None:
    reason = (
        f"more decimals than {currency} has (its ISO 4217 minor unit is {unit}); "
        "amounts are never rounded"
    )
    assert _reasons(TransactionRecord, _tx(amount=amount, currency=currency)) == [
        f"amount: {reason}"
    ]
    account = {"id": "A1", "balance": amount, "currency": currency}
    assert _reasons(AccountRecord, account) == [f"balance: {reason}"]


def test_amounts_in_minor_units_are_stored_as_given() -> None:
    def stored(**fields: object) -> object:
        return TransactionRecord.model_validate(_tx(**fields)).to_graph_row()["props"]["amount"]

    assert stored(amount="1.50") == 1.5
    assert stored(amount="0.005", currency="KWD") == 0.005  # no thousands group: a decimal
    assert stored(amount="1234.005", currency="KWD") == 1234.005
    assert stored(amount=1.005, currency="KWD") == 1.005  # a JSON number: nothing to guess
    assert stored(amount="1,000", currency="JPY") == 1000.0
    assert stored(amount=356.8) == 356.8  # a JSON number
    assert _reasons(TransactionRecord, _tx(amount="0.00")) == [
        "amount: Input should be greater than 0"
    ]
    balance = AccountRecord.model_validate({"id": "A1", "balance": "0.01"}).to_graph_row()
    assert balance["props"] == {"balance": 0.01}


@pytest.mark.parametrize("currency", ["KWD", "bhd", "JOD", "OMR", "TND", "LYD", "IQD", "CLF"])
@pytest.mark.parametrize("amount", ["1.005", "12.345", "-999.001", "¥1.005"])
def test_one_dot_group_in_a_currency_of_three_decimals_is_ambiguous(
    amount: str, currency: str
) -> None:
    # QA, session 22: in a decimal-comma file 1.005 KWD is 1005 written with a thousands dot,
    # and was stored as 1.005 (1000x off) because the group did not end in 0.
    assert _reasons(TransactionRecord, _tx(amount=amount, currency=currency)) == [
        f"amount: {AMBIGUOUS_AMOUNT}"
    ]
    account = {"id": "A1", "balance": amount, "currency": currency}
    assert _reasons(AccountRecord, account) == [f"balance: {AMBIGUOUS_AMOUNT}"]


def test_one_dot_group_in_a_currency_of_two_decimals_is_still_refused_for_its_third() -> None:
    # Never stored 1000x off either way: CNY (the default) has two decimals, JPY none.
    for currency, unit in (("CNY", "0.01"), ("JPY", "1")):
        assert _reasons(AccountRecord, {"id": "A1", "balance": "1.005", "currency": currency}) == [
            f"balance: more decimals than {currency} has (its ISO 4217 minor unit is {unit}); "
            "amounts are never rounded"
        ]


def test_currencies_are_iso_4217_with_rmb_read_as_cny() -> None:
    assert _reasons(AccountRecord, {"id": "A1", "currency": "ZZZ"}) == [
        "currency: not an ISO 4217 currency code (e.g. CNY, USD, EUR, JPY)"
    ]
    assert _reasons(TransactionRecord, _tx(amount="5", currency="zzz"))[0].startswith("currency:")
    for alias in ("rmb", "RMB", "人民币", "cny"):
        row = AccountRecord.model_validate({"id": "A1", "currency": alias}).to_graph_row()
        assert row["props"] == {"currency": "CNY"}
        assert TransactionRecord.model_validate(_tx(amount="5", currency=alias)).currency == "CNY"
