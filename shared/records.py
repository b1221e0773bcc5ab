"""One pydantic model per CRM import kind; ``to_graph_row()`` gives the repository row shape.

Shared by the file importer and the GraphQL mutations, so errors must be safe to show:
``validation_reasons`` turns a ValidationError into ``"field: reason"`` strings that name the
field and never echo the personal value. Empty values count as "not given", and only given
fields are written, so a file without a column never erases what the graph already holds.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Set
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    PrivateAttr,
    TypeAdapter,
    ValidationError,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from shared.times import parse_time
from shared.validators import (
    MINOR_UNITS,
    MONEY_DIGITS,
    birth_date_from_cn_id,
    check_birth_date,
    check_cn_id,
    check_currency,
    check_money,
    normalize_phone,
    to_iso_date,
    to_utc_iso,
)

_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

_GENDERS = {"男": "M", "女": "F", "M": "M", "F": "F", "MALE": "M", "FEMALE": "F"}
_RISK = {
    "保守": "保守",
    "稳健": "稳健",
    "激进": "激进",
    "CONSERVATIVE": "保守",
    "BALANCED": "稳健",
    "MODERATE": "稳健",
    "AGGRESSIVE": "激进",
}
_BOOLS = {"是": True, "否": False, "Y": True, "N": False, "YES": True, "NO": False}


Row = dict[str, Any]  # the repository row shape (graph.store.Row)


def _code(value: Any) -> Any:
    return value.strip().upper() if isinstance(value, str) else value


def _from_table(table: dict[str, str], what: str) -> Any:
    def convert(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        key = value.strip()
        found = table.get(key, table.get(key.upper()))
        if found is None:
            raise ValueError(f"must be one of {', '.join(sorted(set(table.values())))} ({what})")
        return found

    return convert


def _bool(value: Any) -> Any:
    if isinstance(value, str):
        return _BOOLS.get(value.strip().upper(), value)
    return value


_THOUSANDS = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?")  # 1,234.50
_DECIMAL_COMMA = re.compile(r"[+-]?\d+,\d+")  # 1234,5 (not 1,234: that is a thousand)
_DOTTED_THOUSANDS = re.compile(r"[+-]?\d{1,3}(\.\d{3})+,\d+")  # 1.234,56
# "1.000", "12.500", "1.234.567": a thousands dot (decimal-comma exports) or three decimals.
# Read neither way unless the file's decimal mark is declared (the mapping's decimal = "," /
# ".", or --decimal). A single group ending in a digit other than 0 ("1.005") is ambiguous
# only in a currency with three (or more) decimals (KWD, BHD, JOD, ...: _one_group_in_currency,
# which knows the row's currency); in a currency of two decimals or none it is read as a
# decimal and refused for its third one anyway (check_money), never stored 1000x off. So is
# a single comma group there ("12,345": a thousand comma, or three decimals after a decimal
# comma); elsewhere it is a thousands comma (a third decimal could not be stored anyway).
_AMBIGUOUS_DOT = re.compile(r"[+-]?[1-9]\d{0,2}(\.\d{3}){2,}|[+-]?[1-9]\d{0,2}\.\d\d0")
_ONE_GROUP = re.compile(r"[+-]?[1-9]\d{0,2}([.,])\d{3}")


def _ambiguous(mark: str) -> str:
    return (
        f"ambiguous amount: a {mark} before three digits is a thousands {mark} or three "
        'decimals; set decimal = "," or decimal = "." in the mapping\'s [source] (or give '
        "--decimal)"
    )


AMBIGUOUS_AMOUNT = _ambiguous("dot")
AMBIGUOUS_COMMA_AMOUNT = _ambiguous("comma")


def _amount_text(value: str) -> str:
    return value.replace("¥", "").replace("￥", "").strip()


# "1.23457E+11", "1E-2", "1_000": Decimal() reads them, but an amount is never written so.
# An exponent is what a spreadsheet shows (and may save) for a number it cut to a few digits:
# 123457000000 stored as exact would invent the digits Excel dropped.
_MANGLED = re.compile(r"[eE_]")
MANGLED_AMOUNT = (
    "an amount in exponent form or with an underscore (1.23457E+11, 1E-2, 1_000): likely "
    "mangled by a spreadsheet (Excel cuts long numbers to a few digits); export the column as "
    "text, with every digit"
)

# "1 234.50", "¥1 234,50": groups of three split by a (no-break) space, read only with the
# file's decimal mark declared (a space says nothing of the mark after it).
_SPACED = re.compile(r"[+-]?\d{1,3}([ \u00a0\u202f]\d{3})+([.,]\d+)?")
SPACED_AMOUNT = (
    "an amount with digits grouped by spaces, like 1 234.50, is read only with the file's "
    'decimal mark declared: set decimal = "." or decimal = "," in the mapping\'s [source] (or '
    "give --decimal . or --decimal ,)"
)
# "(12.00)": an accounting negative; never read (a sign lost is a credit made a debit).
_PARENTHESIZED = re.compile(r"\(\s*[^()]*\d[^()]*\)")
PARENTHESIZED_AMOUNT = (
    "an accounting negative in parentheses, like (12.00), is not read: write it with a minus "
    "sign, -12.00"
)


def _unread_amount(text: str) -> str | None:
    """Why ``text`` (an amount's text without its currency sign) is not read as any amount,
    when it is a spelling people write: accounting parentheses, space grouping with no
    decimal mark declared; None for the others (the model says "not a decimal")."""
    if _PARENTHESIZED.fullmatch(text):
        return PARENTHESIZED_AMOUNT
    if _SPACED.fullmatch(text):
        return SPACED_AMOUNT
    return None


def _amount(value: Any) -> Any:
    # Exports write "1,234.50", "¥1234.5", or with a decimal comma "1234,5" / "1.234,56"
    # (semicolon-separated files often do); the graph stores plain numbers. Anything else with
    # a comma stays as it is and fails as "not a number", never read as another amount.
    if not isinstance(value, str):
        return value
    text = _amount_text(value)
    if _MANGLED.search(text):
        raise ValueError(MANGLED_AMOUNT)
    if "," not in text:
        if "." in text and _AMBIGUOUS_DOT.fullmatch(text):
            raise ValueError(AMBIGUOUS_AMOUNT)
        if text[-1:] == ")" or " " in text or not text.isascii():
            _refuse_unread(text)
        return text  # the common case: every pattern below needs a comma
    if _THOUSANDS.fullmatch(text):
        return text.replace(",", "")
    if _DECIMAL_COMMA.fullmatch(text):
        return text.replace(",", ".")
    if _DOTTED_THOUSANDS.fullmatch(text):
        return text.replace(".", "").replace(",", ".")
    _refuse_unread(text)
    return text


def _refuse_unread(text: str) -> None:
    reason = _unread_amount(text)
    if reason is not None:
        raise ValueError(reason)


_DECLARED = {
    # decimal mark -> the amounts it reads: plain, or groups of three split by the other mark
    # or a (no-break) space, one separator per value ("1.234,56", "1 234,56", "1234,5").
    mark: re.compile(
        rf"[+-]?(\d+|\d{{1,3}}(?P<sep>[{other} \u00a0\u202f])\d{{3}}((?P=sep)\d{{3}})*)"
        rf"({re.escape(mark)}\d+)?"
    )
    for mark, other in ((",", "."), (".", ","))
}


def read_amount(value: Any, mark: str) -> Any:
    """An amount text read with the file's declared decimal ``mark`` ("," or ".") as a
    Decimal; other values unchanged (the model reads or refuses them)."""
    if not isinstance(value, str):
        return value
    text = _amount_text(value)
    if not _DECLARED[mark].fullmatch(text):
        if _PARENTHESIZED.fullmatch(text):
            raise ValueError(PARENTHESIZED_AMOUNT)
        example = "1.234,56" if mark == "," else "1,234.56"
        raise ValueError(f"not an amount with the decimal mark {mark!r} (e.g. {example})")
    digits = text.translate({ord(c): None for c in "., \u00a0\u202f" if c != mark})
    return Decimal(digits.replace(mark, "."))


def _email(value: str) -> str:
    if not _EMAIL_RE.fullmatch(value):
        raise ValueError("not a valid email address")
    return value.lower()


Code = Annotated[str, BeforeValidator(_code)]
Phone = Annotated[str, AfterValidator(normalize_phone)]
Email = Annotated[str, AfterValidator(_email)]
IdNumber = Annotated[str, AfterValidator(check_cn_id)]
UtcTime = Annotated[str, BeforeValidator(lambda v: to_utc_iso(v))]

# Clock skew allowed between the source system and the hub for a consent's evidence time.
CONSENT_CLOCK_SKEW = timedelta(minutes=5)
CONSENT_AHEAD = (
    "later than now (more than 5 minutes ahead): a consent cannot be given or withdrawn in "
    "the future, and a later date would outrank every change made until then; give the "
    "time the consent was recorded"
)


def _consent_not_ahead(value: str) -> str:
    """A consent's evidence time no later than now (+ CONSENT_CLOCK_SKEW): the import orders
    consents by it (ingest.kinds.stale_consent), so one dated tomorrow would win over a
    withdrawal made today (QA, session 22). Other times may be a day ahead; this one not."""
    moment = parse_time(value)
    if moment is not None and moment > datetime.now(UTC) + CONSENT_CLOCK_SKEW:
        raise ValueError(CONSENT_AHEAD)
    return value


ConsentTime = Annotated[UtcTime, AfterValidator(_consent_not_ahead)]
Flag = Annotated[bool, BeforeValidator(_bool)]
# Read exactly (Decimal, never float) so that the currency's minor unit can be checked
# (the records' model validators, :func:`_in_currency`); stored as a number (to_graph_row).
Money = Annotated[Decimal, BeforeValidator(_amount), Field(allow_inf_nan=False)]
CurrencyCode = Annotated[str, AfterValidator(check_currency)]
BirthDate = Annotated[
    str, BeforeValidator(lambda v: to_iso_date(v)), AfterValidator(check_birth_date)
]
Key = Annotated[str, Field(min_length=1, max_length=200)]
Gender = Annotated[Literal["M", "F"], BeforeValidator(_from_table(_GENDERS, "男/女/M/F"))]
Risk = Annotated[Literal["保守", "稳健", "激进"], BeforeValidator(_from_table(_RISK, "risk"))]
TxKind = Literal[
    "DEPOSIT", "WITHDRAWAL", "TRANSFER_IN", "TRANSFER_OUT", "PAYMENT", "SALARY", "FEE", "INTEREST"
]


# Fields read as calendar dates / as times (a mapping's [source] formats and zone apply).
DATE_FIELDS = frozenset({"birthDate"})
TIME_FIELDS = frozenset({"createdAt", "consentUpdatedAt", "openedAt", "time"})
# Amounts (a mapping's [source] decimal mark applies).
MONEY_FIELDS = frozenset({"balance", "amount"})


def _in_currency(name: str, amount: Decimal, currency: str) -> None:
    """Raise ValueError("name: reason") unless ``currency`` can hold ``amount``."""
    try:
        check_money(amount, currency)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None


def _currency_given(data: dict[str, Any]) -> bool:
    code = data.get("currency")
    return isinstance(code, str) and bool(code.strip())


def _storable(name: str, amount: Decimal) -> None:
    """Raise ValueError("name: ...") when the graph's number cannot hold every digit of
    ``amount``: the part of :func:`_in_currency` that needs no currency (a row without one is
    checked against its record's once the import knows it, from the stored number)."""
    _, digits, exponent = amount.normalize().as_tuple()
    if isinstance(exponent, int) and len(digits) + max(exponent, 0) > MONEY_DIGITS:
        raise ValueError(f"{name}: more than {MONEY_DIGITS} digits: too large to store exactly")


def _given_currency(data: dict[str, Any]) -> str | None:
    """The row's currency code, None when it gives none (the import takes the stored one:
    ingest.currencies) or none valid (the currency field says why)."""
    if not _currency_given(data):
        return None
    try:
        return check_currency(data["currency"])
    except ValueError:
        return None


def _one_group_mark(data: dict[str, Any], name: str) -> str | None:
    """ "dot" / "comma" when the row's amount text is one group of three digits after a dot
    or a comma (``1.005``, ``12,345``), else None. An amount the file's declared decimal mark
    read is a number by now (ingest.mapping): not guessed again."""
    value = data.get(name)
    found = _ONE_GROUP.fullmatch(_amount_text(value)) if isinstance(value, str) else None
    if found is None:
        return None
    return "dot" if found[1] == "." else "comma"


def one_group_reason(name: str, mark: str) -> str:
    return f"{name}: {_ambiguous(mark)}"


def _one_group_in_currency(data: dict[str, Any], name: str) -> str | None:
    """``"name: ambiguous amount ..."`` when the row's amount text is one group of three
    digits (:func:`_one_group_mark`) and the row's currency has three decimals or more (ISO
    4217 minor unit: KWD, BHD, JOD, OMR, TND, LYD, IQD; CLF has four): 1.005 there, or 1005
    written with a thousands dot, as a file of decimal commas writes it; else None. A row
    without a currency is judged once its currency is known (ingest.currencies)."""
    mark = _one_group_mark(data, name)
    currency = _given_currency(data) if mark is not None else None
    if mark is not None and currency is not None and (MINOR_UNITS[currency] or 0) >= 3:
        return one_group_reason(name, mark)
    return None


_MONEY = TypeAdapter(Money)


def _money_in_currency(data: dict[str, Any], name: str) -> list[str]:
    """Why the row's amount does not fit its currency (:func:`_in_currency`), judged from the
    row's values alone: what the model's after-validator says once every field is valid."""
    value = data.get(name)
    currency = _given_currency(data)
    if value is None or (isinstance(value, str) and not value.strip()) or currency is None:
        return []
    try:
        _in_currency(name, _MONEY.validate_python(value), currency)
    except ValidationError:
        return []  # the field says why
    except ValueError as exc:
        return [str(exc)]
    return []


def _with_reasons(title: str, errors: list[Any], more: list[str]) -> ValidationError:
    """One error of ``errors`` (each as it was told: its type and message kept, whatever
    type) and the record-level reasons ``more``."""
    line_errors: list[InitErrorDetails] = [
        {"type": PydanticCustomError(e["type"], e["msg"]), "loc": e["loc"], "input": None}
        for e in errors
    ]
    line_errors += [
        {"type": "value_error", "loc": (), "input": None, "ctx": {"error": ValueError(r)}}
        for r in more
    ]
    return ValidationError.from_exception_data(title, line_errors, hide_input=True)


def _every_amount_reason(data: Any, handler: ModelWrapValidatorHandler[Any], name: str) -> Any:
    """The model validated with every reason of a row in one error: an amount's spelling
    (ambiguous) and its fit in the currency are judged whatever the other fields say, where a
    before-validator's error hid every field's and an after-validator ran only once every
    field was valid (QA, session 22: ``12.345`` beside a bad time told only the time's, and
    the user found the amount's on the next import)."""
    if not isinstance(data, dict):
        return handler(data)
    ambiguous = _one_group_in_currency(data, name)
    if ambiguous is not None:
        data = {k: v for k, v in data.items() if k != name}  # read neither way
    try:
        model = handler(data)
    except ValidationError as exc:
        errors = [
            e for e in exc.errors() if ambiguous is None or e["loc"][:1] != (name,)
        ]  # without amount: its "Field required"
        failed = {e["loc"][0] for e in errors if e["loc"]}
        if ambiguous is not None:
            more = [ambiguous]
        elif name in failed or "currency" in failed:
            more = []
        else:
            more = _money_in_currency(data, name)
        raise _with_reasons(exc.title, errors, more) from None
    if ambiguous is not None:
        raise ValueError(ambiguous)
    if not _currency_given(data) and (mark := _one_group_mark(data, name)) is not None:
        # Ambiguous or not by the currency the import finds for the row (ingest.currencies).
        model._one_group = mark
    return model


class ImportRecord(BaseModel):
    """Base: strips text, treats ``""``/None as not given, hides inputs from error text."""

    model_config = ConfigDict(
        extra="ignore",
        str_strip_whitespace=True,
        coerce_numbers_to_str=True,
        hide_input_in_errors=True,
    )
    KEY_FIELDS: ClassVar[tuple[str, ...]] = ("id",)
    # Set by an amount's validator (:func:`_every_amount_reason`): see ONE_GROUP.
    _one_group: str | None = PrivateAttr(default=None)
    # Code fields read case-insensitively (" deposit " is DEPOSIT).
    CODE_FIELDS: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="before")
    @classmethod
    def _drop_empty(cls, data: Any) -> Any:
        # One pass for both (a validator call and a dict copy per record less than two).
        if isinstance(data, dict):
            # isspace() decides as strip() does, without building the stripped copy.
            data = {
                k: v
                for k, v in data.items()
                if v is not None and not (isinstance(v, str) and (not v or v.isspace()))
            }
            for name in cls.CODE_FIELDS:
                if name in data:
                    data[name] = _code(data[name])
        return data

    def given(self, *names: str) -> dict[str, Any]:
        """The named fields that were set (explicitly or by a deliberate default)."""
        return {n: getattr(self, n) for n in names if n in self.model_fields_set}

    def to_graph_row(self) -> Row:
        raise NotImplementedError


BIRTH_DATE_MISMATCH = "birthDate: does not match the birth date in idNumber"
# The two fields as the record reads them (strip, numbers as text), judged on their own.
_FIELD_CONFIG = ConfigDict(str_strip_whitespace=True, coerce_numbers_to_str=True)
_BIRTH_DATE = TypeAdapter(BirthDate, config=_FIELD_CONFIG)
_ID_NUMBER = TypeAdapter(IdNumber, config=_FIELD_CONFIG)


def _birth_date_disagrees(data: dict[str, Any]) -> bool:
    """Both birthDate and idNumber are given and valid, and disagree (what CustomerRecord's
    after-validator refuses), whatever the row's other fields say."""
    born, number = data.get("birthDate"), data.get("idNumber")
    if any(v is None or (isinstance(v, str) and not v.strip()) for v in (born, number)):
        return False
    try:
        given = _BIRTH_DATE.validate_python(born)
        carried = birth_date_from_cn_id(_ID_NUMBER.validate_python(number)).isoformat()
    except ValueError:  # ValidationError is one: the field itself says why
        return False
    return bool(given != carried)


class CustomerRecord(ImportRecord):
    id: Key
    name: str | None = None
    gender: Gender | None = None
    birthDate: BirthDate | None = None
    idNumber: IdNumber | None = None
    phone: Phone | None = None
    email: Email | None = None
    address: str | None = None
    occupation: str | None = None
    incomeBand: str | None = None
    riskProfile: Risk | None = None
    createdAt: UtcTime | None = None
    advisorId: Key | None = None
    consentMarketing: Flag | None = None
    consentDataSharing: Flag | None = None
    consentUpdatedAt: ConsentTime | None = None

    PROPS: ClassVar[tuple[str, ...]] = (
        "name",
        "gender",
        "birthDate",
        "idNumber",
        "phone",
        "email",
        "address",
        "occupation",
        "incomeBand",
        "riskProfile",
        "createdAt",
        "consentMarketing",
        "consentDataSharing",
        "consentUpdatedAt",
    )

    @model_validator(mode="wrap")
    @classmethod
    def _every_birth_date_reason(cls, data: Any, handler: ModelWrapValidatorHandler[Any]) -> Any:
        """The birthDate/idNumber mismatch told beside another field's problem: the
        after-validator runs only once every field is valid (QA: a row with a bad email and a
        mismatch told the email's alone; a dead letter lists every problem of its record)."""
        try:
            return handler(data)
        except ValidationError as exc:
            errors = exc.errors()
            failed = {e["loc"][0] for e in errors if e["loc"]}
            if (
                not isinstance(data, dict)
                or {"birthDate", "idNumber"} & failed
                or any(BIRTH_DATE_MISMATCH in e["msg"] for e in errors)
                or not _birth_date_disagrees(data)
            ):
                raise
            raise _with_reasons(exc.title, errors, [BIRTH_DATE_MISMATCH]) from None

    @model_validator(mode="after")
    def _id_matches_birth_date(self) -> CustomerRecord:
        if self.idNumber is None:
            return self
        born = birth_date_from_cn_id(self.idNumber).isoformat()
        if self.birthDate is None:
            # The ID is authoritative: record the birth date it carries.
            self.birthDate = born
        elif self.birthDate != born:
            raise ValueError(BIRTH_DATE_MISMATCH)
        return self

    def to_graph_row(self) -> Row:
        row: Row = {"id": self.id, "props": self.given(*self.PROPS)}
        if self.advisorId is not None:
            row["advisorId"] = self.advisorId
        return row


BIRTH_DATE_WITHOUT_ID = (
    "birthDate: this customer has an ID number on record, which fixes the birth date; give "
    "idNumber with birthDate (the two must agree) or leave birthDate out"
)


def stored_id_reasons(given: Row, held: Set[str]) -> list[str]:
    """Why a customer row cannot be written over the stored record: a birth date given
    without the ID number, for a customer whose ID number is on record. The record model
    checks the two only within one row (an ID number alone brings its birth date along), so
    a partial update would store a birth date the ID contradicts. Refused whatever the date
    and the stored ID say (``held``: the names of the stored fields, not their values):
    judging the date against the stored one would answer "is this the birth date?" to a
    caller who sees only the year (366 guesses)."""
    if "birthDate" in given and "idNumber" not in given and "idNumber" in held:
        return [BIRTH_DATE_WITHOUT_ID]
    return []


# The row key naming an amount's one-group spelling (``"dot"`` / ``"comma"``) when the row
# gives no currency: ambiguous only in a currency of three decimals, known once looked up.
ONE_GROUP = "oneGroup"


def _with_one_group(row: Row, mark: str | None) -> Row:
    if mark is not None:
        row[ONE_GROUP] = mark
    return row


class AccountRecord(ImportRecord):
    id: Key
    customerId: Key | None = None
    type: Literal["SAVINGS", "CHECKING", "CREDIT_CARD", "LOAN", "WEALTH"] | None = None
    product: str | None = None
    balance: Money | None = None
    currency: CurrencyCode | None = None
    openedAt: UtcTime | None = None
    status: Literal["ACTIVE", "DORMANT", "CLOSED"] | None = None

    CODE_FIELDS: ClassVar[tuple[str, ...]] = ("type", "status")

    @model_validator(mode="wrap")
    @classmethod
    def _balance_reasons(cls, data: Any, handler: ModelWrapValidatorHandler[Any]) -> Any:
        return _every_amount_reason(data, handler, "balance")

    @model_validator(mode="after")
    def _balance_in_currency(self) -> AccountRecord:
        # Without a currency the balance is in the stored account's (a daily ``id,balance``
        # refresh of a USD account stays USD; QA, session 26), which only the import's
        # lookup knows: checked there (ingest.currencies).
        if self.balance is not None:
            if self.currency is not None:
                _in_currency("balance", self.balance, self.currency)
            else:
                _storable("balance", self.balance)
        return self

    def to_graph_row(self) -> Row:
        props = self.given("type", "product", "balance", "currency", "openedAt", "status")
        if self.balance is not None:
            props["balance"] = float(self.balance)
        row: Row = {"id": self.id, "props": props}
        if self.customerId is not None:
            row["customerId"] = self.customerId
        return _with_one_group(row, self._one_group)


class HoldingRecord(ImportRecord):
    KEY_FIELDS: ClassVar[tuple[str, ...]] = ("customerId", "accountId")
    customerId: Key
    accountId: Key
    role: Code = Field(default="OWNER", pattern=r"^(OWNER|JOINT)$")

    def to_graph_row(self) -> Row:
        return {"customerId": self.customerId, "accountId": self.accountId, "role": self.role}


class HouseholdRecord(ImportRecord):
    id: Key
    name: str | None = None
    address: str | None = None
    customerId: Key | None = None
    role: Literal["HEAD", "SPOUSE", "CHILD", "PARENT", "MEMBER"] | None = None

    CODE_FIELDS: ClassVar[tuple[str, ...]] = ("role",)

    def to_graph_row(self) -> Row:
        row: Row = {"id": self.id, "props": self.given("name", "address")}
        if self.customerId is not None:
            row["customerId"] = self.customerId
            row["role"] = self.role or "MEMBER"
        return row


class TransactionRecord(ImportRecord):
    KEY_FIELDS: ClassVar[tuple[str, ...]] = ("id", "accountId")
    id: Key
    accountId: Key
    amount: Annotated[Money, Field(gt=0)]
    currency: CurrencyCode | None = None
    time: UtcTime
    channel: Literal["ATM", "POS", "ONLINE", "MOBILE", "BRANCH"] | None = None
    kind: TxKind
    description: str | None = None

    CODE_FIELDS: ClassVar[tuple[str, ...]] = ("channel", "kind")

    @model_validator(mode="wrap")
    @classmethod
    def _amount_reasons(cls, data: Any, handler: ModelWrapValidatorHandler[Any]) -> Any:
        return _every_amount_reason(data, handler, "amount")

    @model_validator(mode="after")
    def _amount_in_minor_units(self) -> TransactionRecord:
        # Without a currency: the stored transaction's, else its account's (checked by the
        # import, which looks them up: ingest.currencies).
        if self.currency is not None:
            _in_currency("amount", self.amount, self.currency)
        else:
            _storable("amount", self.amount)
        return self

    def to_graph_row(self) -> Row:
        props = {"amount": float(self.amount), "time": self.time}
        props |= self.given("currency", "channel", "kind", "description")
        row: Row = {"id": self.id, "accountId": self.accountId, "props": props}
        return _with_one_group(row, self._one_group)


# Through what an interaction happened: the import and logInteraction validate it, and a
# campaign's channel is one of these (its contacts are logged as MARKETING interactions).
# SMS: a text message, the commonest marketing channel of China's banks.
InteractionChannel = Literal["PHONE", "SMS", "CHAT", "EMAIL", "BRANCH", "APP"]
# What an interaction may be (the import validates it; ``interactions(kind:)`` filters by it).
InteractionKind = Literal["INQUIRY", "COMPLAINT", "FEEDBACK", "SURVEY", "MARKETING"]
# The kind of interaction completeTask logs for a care task done (the hub writes it itself;
# no import brings one).
CARE_KIND = "CARE"
# Interactions the bank starts, not the customer: a campaign's contact (MARKETING, logged by
# logCampaignContacts or imported) and a care task's completion (CARE). They tell nothing of
# whether the customer is still active: a voicemail left or an SMS sent reset the churn risk
# and the lifecycle stage. Activity (the 360 view's lifecycleStage and churnRisk, the rule
# score, the churn model's idle_days) counts transactions and the other kinds only.
BANK_INITIATED_KINDS: tuple[str, ...] = ("MARKETING", CARE_KIND)


def customer_initiated(interaction: Mapping[str, Any]) -> bool:
    """Whether an interaction row (its ``kind``, any case) counts as the customer's activity."""
    return str(interaction.get("kind") or "").upper() not in BANK_INITIATED_KINDS


class InteractionRecord(ImportRecord):
    KEY_FIELDS: ClassVar[tuple[str, ...]] = ("id", "customerId")
    id: Key
    customerId: Key
    channel: InteractionChannel | None = None
    kind: InteractionKind | None = None
    time: UtcTime | None = None
    summary: str | None = None
    satisfaction: Annotated[int, Field(ge=1, le=5)] | None = None
    resolved: Flag | None = None
    productCode: Key | None = None

    CODE_FIELDS: ClassVar[tuple[str, ...]] = ("channel", "kind")

    def to_graph_row(self) -> Row:
        props = self.given("channel", "kind", "time", "summary", "satisfaction", "resolved")
        row: Row = {"id": self.id, "customerId": self.customerId, "props": props}
        if self.productCode is not None:
            row["productCode"] = self.productCode
        return row


class AdvisorRecord(ImportRecord):
    id: Key
    name: str | None = None
    phone: Phone | None = None
    email: Email | None = None
    title: str | None = None
    branchId: Key | None = None
    branchName: str | None = None
    branchCity: str | None = None

    def to_graph_row(self) -> Row:
        row: Row = {"id": self.id, "props": self.given("name", "phone", "email", "title")}
        if self.branchId is not None:
            row["branchId"] = self.branchId
            branch = {"name": self.branchName, "city": self.branchCity}
            row["branch"] = {k: v for k, v in branch.items() if v is not None}
        return row


# pydantic's own phrasings ("Input should be a valid boolean, unable to interpret input",
# "Field required"), said as what to write instead (QA, session 26).
_YES_NO = "not a yes/no value: write true/false, 1/0, Y/N, yes/no or 是/否"
_NOT_A_NUMBER = "not a number (e.g. 1234.50)"
_PLAIN = {
    "missing": "missing (a value is required)",
    "bool_parsing": _YES_NO,
    "bool_type": _YES_NO,
    "decimal_parsing": _NOT_A_NUMBER,
    "decimal_type": _NOT_A_NUMBER,
    "string_type": "not text",
}


def validation_reasons(exc: ValidationError, skip: Collection[str] = ()) -> list[str]:
    """``["phone: not a valid CN mobile or landline number", ...]``: field names from pydantic's
    loc, messages without the input value (the models hide inputs from errors). Not those of
    the fields in ``skip`` (left out for a reason already told: their "missing")."""
    reasons = []
    for error in exc.errors(include_input=False, include_url=False):
        loc = ".".join(str(p) for p in error["loc"] if not isinstance(p, int))
        # Union members add their type to the loc ("gender.literal['M','F']"): keep the field.
        field = loc.split(".")[0] if loc else ""
        if field and field in skip:
            continue
        message = _PLAIN.get(error["type"]) or error["msg"].removeprefix("Value error, ")
        reasons.append(f"{field}: {message}" if field else message)
    return list(dict.fromkeys(reasons))


__all__ = [
    "AMBIGUOUS_AMOUNT",
    "AMBIGUOUS_COMMA_AMOUNT",
    "BANK_INITIATED_KINDS",
    "BIRTH_DATE_WITHOUT_ID",
    "CARE_KIND",
    "CONSENT_AHEAD",
    "CONSENT_CLOCK_SKEW",
    "DATE_FIELDS",
    "MANGLED_AMOUNT",
    "MONEY_FIELDS",
    "ONE_GROUP",
    "PARENTHESIZED_AMOUNT",
    "SPACED_AMOUNT",
    "TIME_FIELDS",
    "AccountRecord",
    "AdvisorRecord",
    "CustomerRecord",
    "HoldingRecord",
    "HouseholdRecord",
    "ImportRecord",
    "InteractionRecord",
    "TransactionRecord",
    "customer_initiated",
    "one_group_reason",
    "read_amount",
    "stored_id_reasons",
    "validation_reasons",
]
