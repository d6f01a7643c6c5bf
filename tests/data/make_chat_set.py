"""Generate tests/data/chat_set.jsonl: a labelled set of customer chat conversations (deterministic).

Run: python tests/data/make_chat_set.py [out.jsonl]   (default: rewrites chat_set.jsonl, which is committed)

Every value is synthetic and generated to be valid where validity is defined (card numbers pass Luhn and
carry a real issuer prefix; SSNs avoid the never-issued ranges; IBANs have correct mod-97 check digits and
country lengths), so a detector that rejects them is wrong, not the data. Labels come from construction:
each placeholder records the exact character span it filled, so no label is typed by hand.

One JSON object per line:
  {"id", "category", "messages": [{"text", "t", "spans": [[TYPE, start, end], ...]}]}
`t` is seconds since the conversation started. Span types are Comprehend's, plus `CARD_PREFIX`: the first
fragment of a split card number when it is at most six digits long (PCI DSS lets the BIN be shown, so it
may stay visible and is not counted either way). Conversations of category `clean` hold no redactable PII
under the default entity types (phone numbers and emails stay visible by design): their text must come
through unchanged.
"""

from __future__ import annotations

import json
import random
import string
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent / "chat_set.jsonl"
SEED = 20261120

NUMBER_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


# ---------------------------------------------------------------------------------------------- valid values


def luhn_complete(rng: random.Random, prefix: str, length: int) -> str:
    body = prefix + "".join(rng.choice(string.digits) for _ in range(length - len(prefix) - 1))
    for check in string.digits:
        candidate = body + check
        total = 0
        for index, char in enumerate(reversed(candidate)):
            value = int(char)
            if index % 2:
                value = value * 2 - 9 if value > 4 else value * 2
            total += value
        if total % 10 == 0:
            return candidate
    raise AssertionError("unreachable")


CARD_BRANDS = [  # (prefixes, length, grouping)
    (["4"], 16, (4, 4, 4, 4)),
    (["51", "52", "53", "54", "55"], 16, (4, 4, 4, 4)),
    (["2221", "2300", "2500", "2720"], 16, (4, 4, 4, 4)),
    (["34", "37"], 15, (4, 6, 5)),
    (["6011", "65", "644"], 16, (4, 4, 4, 4)),
    (["3528", "3589", "3540"], 16, (4, 4, 4, 4)),
    (["36", "300", "38"], 14, (4, 6, 4)),
    (["62"], 19, (4, 4, 4, 4, 3)),
    (["4"], 19, (4, 4, 4, 4, 3)),
]


def card(rng: random.Random) -> tuple[str, tuple[int, ...]]:
    prefixes, length, grouping = rng.choice(CARD_BRANDS)
    return luhn_complete(rng, rng.choice(prefixes), length), grouping


def group(digits: str, grouping: tuple[int, ...], sep: str) -> str:
    parts, cursor = [], 0
    for size in grouping:
        parts.append(digits[cursor:cursor + size])
        cursor += size
    return sep.join(parts)


def ssn(rng: random.Random) -> str:
    while True:
        area = rng.randint(1, 899)
        if area != 666:
            break
    return f"{area:03d}{rng.randint(1, 99):02d}{rng.randint(1, 9999):04d}"


IBAN_FORMATS = {  # country: BBAN length, all digits except GB's bank code
    "DE": 18, "FR": 23, "ES": 20, "NL": 14, "IT": 23, "GB": 18, "BE": 12, "AT": 16,
}


def iban(rng: random.Random) -> str:
    country = rng.choice(sorted(IBAN_FORMATS))
    length = IBAN_FORMATS[country]
    if country == "GB":
        bban = "".join(rng.choice(string.ascii_uppercase) for _ in range(4)) + "".join(rng.choice(string.digits) for _ in range(14))
    elif country == "NL":
        bban = "".join(rng.choice(string.ascii_uppercase) for _ in range(4)) + "".join(rng.choice(string.digits) for _ in range(10))
    elif country == "IT":
        bban = rng.choice(string.ascii_uppercase) + "".join(rng.choice(string.digits) for _ in range(22))
    else:
        bban = "".join(rng.choice(string.digits) for _ in range(length))
    numeric = "".join(str(int(ch, 36)) for ch in bban + country + "00")
    check = 98 - int(numeric) % 97
    return f"{country}{check:02d}{bban}"


def spell(digits: str, rng: random.Random) -> str:
    words = [NUMBER_WORDS[int(d)] for d in digits]
    if rng.random() < 0.3:
        words = ["oh" if w == "zero" else w for w in words]
    return " ".join(words)


def spell_mixed(digits: str, grouping: tuple[int, ...], rng: random.Random) -> str:
    parts, cursor = [], 0
    for size in grouping:
        chunk = digits[cursor:cursor + size]
        cursor += size
        parts.append(spell(chunk, rng) if rng.random() < 0.5 else chunk)
    return " ".join(parts)


# ---------------------------------------------------------------------------------------------- builder


class Message:
    """Builds one message from text and labelled values, recording each value's span."""

    def __init__(self):
        self.parts: list[str] = []
        self.spans: list[list] = []
        self.length = 0

    def add(self, text: str, label: str | None = None) -> "Message":
        if label:
            self.spans.append([label, self.length, self.length + len(text)])
        self.parts.append(text)
        self.length += len(text)
        return self

    def done(self, t: int) -> dict:
        return {"text": "".join(self.parts), "t": t, "spans": self.spans}


def one(text_before: str, value: str, label: str, text_after: str = "") -> Message:
    return Message().add(text_before).add(value, label).add(text_after)


# ---------------------------------------------------------------------------------------------- PII conversations

CARD_INTROS = ["my card number is ", "Card: ", "here it is ", "the card is ", "", "ok its ", "Visa ", "use this one ",
               "please charge ", "Credit card number ", "card no. ", "it's ", "pls charge my card ", "Number: "]
CARD_OUTROS = ["", ".", " thanks", " please", "!", " - let me know if it works", " 🙏", " ok?"]


def card_text(rng: random.Random, value: str, grouping: tuple[int, ...]) -> str:
    style = rng.choice(["space", "dash", "dot", "none", "nbsp", "fullwidth", "spelled", "mixed", "double-space",
                        "space-dash", "lookalike"])
    if style == "space":
        return group(value, grouping, " ")
    if style == "dash":
        return group(value, grouping, "-")
    if style == "dot":
        return group(value, grouping, ".")
    if style == "none":
        return value
    if style == "nbsp":
        return group(value, grouping, "\u00a0")
    if style == "fullwidth":
        return group(value, grouping, " ").translate(FULL_WIDTH)
    if style == "spelled":
        return spell(value, rng)
    if style == "mixed":
        return spell_mixed(value, grouping, rng)
    if style == "double-space":
        return group(value, grouping, "  ")
    if style == "space-dash":
        return group(value, grouping, " - ")
    text = group(value, grouping, " ")  # look-alike letters: l for 1, O for 0
    return text.replace("1", "l", 1) if "1" in text[1:] else text.replace("0", "O", 1)


def expiry(rng: random.Random) -> str:
    month, year = rng.randint(1, 12), rng.randint(2026, 2033)
    return rng.choice([f"{month:02d}/{year % 100:02d}", f"{month:02d}/{year}", f"{month:02d}-{year % 100:02d}",
                       f"{['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][month - 1]} {year}"])


def conv_card(rng, index):
    value, grouping = card(rng)
    messages = [Message().add("hi I want to pay my bill").done(0),
                one(rng.choice(CARD_INTROS), card_text(rng, value, grouping), "CREDIT_DEBIT_NUMBER", rng.choice(CARD_OUTROS)).done(20)]
    return {"id": f"card-{index:03d}", "category": "card", "messages": messages}


def conv_card_full(rng, index):
    value, grouping = card(rng)
    cvv = "".join(rng.choice(string.digits) for _ in range(4 if grouping == (4, 6, 5) else 3))
    message = (Message().add(rng.choice(["card ", "Card number ", "", "pay with "]))
               .add(card_text(rng, value, grouping), "CREDIT_DEBIT_NUMBER")
               .add(rng.choice([" exp ", " expires ", ", expiry ", " valid thru "])).add(expiry(rng), "CREDIT_DEBIT_EXPIRY")
               .add(rng.choice([" cvv ", " cvc: ", " security code ", " CVV2 "])).add(cvv, "CREDIT_DEBIT_CVV"))
    return {"id": f"card-full-{index:03d}", "category": "card", "messages": [message.done(0)]}


def conv_card_then_details(rng, index):
    """Card, then expiry and CVV in their own messages (the agent asked for them)."""
    value, grouping = card(rng)
    cvv = "".join(rng.choice(string.digits) for _ in range(3))
    exp = expiry(rng)
    messages = [
        one(rng.choice(CARD_INTROS), card_text(rng, value, grouping), "CREDIT_DEBIT_NUMBER").done(0),
        rng.choice([one("", exp, "CREDIT_DEBIT_EXPIRY"), one("exp ", exp, "CREDIT_DEBIT_EXPIRY"),
                    one("it expires ", exp, "CREDIT_DEBIT_EXPIRY")]).done(25),
        rng.choice([one("", cvv, "CREDIT_DEBIT_CVV"), one("cvv is ", cvv, "CREDIT_DEBIT_CVV"),
                    one("the code on the back is ", cvv, "CREDIT_DEBIT_CVV"), one("", spell(cvv, rng), "CREDIT_DEBIT_CVV")]).done(40),
        Message().add(rng.choice(["thanks", "is that everything?", "ok done", "great"])).done(60),
    ]
    return {"id": f"card-details-{index:03d}", "category": "card-split", "messages": messages}


def conv_card_split(rng, index):
    """One card number typed across 2-4 messages."""
    value, grouping = card(rng)
    if len(value) != 16:
        value, grouping = luhn_complete(rng, rng.choice(["4", "51", "2221", "6011"]), 16), (4, 4, 4, 4)
    cut_style = rng.choice(["4+12", "8+8", "6+10", "4x4", "8+4+4", "12+4"])
    sizes = {"4+12": [4, 12], "8+8": [8, 8], "6+10": [6, 10], "4x4": [4, 4, 4, 4], "8+4+4": [8, 4, 4], "12+4": [12, 4]}[cut_style]
    lead = rng.choice(["", "card number ", "it starts with ", "", "my card is ", "ok here goes ", "sure, so "])
    messages, cursor, t = [], 0, 0
    for number, size in enumerate(sizes):
        piece = value[cursor:cursor + size]
        text = " ".join(piece[i:i + 4] for i in range(0, len(piece), 4)) if size != 6 else piece[:4] + " " + piece[4:]
        label = "CARD_PREFIX" if cursor == 0 and size <= 6 else "CREDIT_DEBIT_NUMBER"
        before = lead if number == 0 else rng.choice(["", "", "then ", ""])
        messages.append(one(before, text, label).done(t))
        cursor += size
        t += rng.randint(3, 30)
    messages.append(Message().add(rng.choice(["that's it", "sorry it cut off", "got it?", "ok"])).done(t + 10))
    return {"id": f"card-split-{index:03d}", "category": "card-split", "messages": messages}


def conv_pin(rng, index):
    pin = "".join(rng.choice(string.digits) for _ in range(rng.choice([4, 4, 4, 6])))
    shown = spell(pin, rng) if rng.random() < 0.3 else pin
    forms = [("my pin is ", ""), ("PIN: ", ""), ("pin number is ", " i think"), ("the pin code is ", ""),
             ("my ATM code is ", ""), ("passcode ", ""), ("pin ", " please reset it")]
    before, after = rng.choice(forms)
    if rng.random() < 0.15:
        message = one("", shown, "PIN", " is my pin")
    else:
        message = one(before, shown, "PIN", after)
    return {"id": f"pin-{index:03d}", "category": "pin", "messages": [message.done(0)]}


def conv_ssn(rng, index):
    value = ssn(rng)
    form = rng.choice(["dash", "space", "bare"])
    shown = {"dash": f"{value[:3]}-{value[3:5]}-{value[5:]}", "space": f"{value[:3]} {value[3:5]} {value[5:]}", "bare": value}[form]
    before = rng.choice(["my ssn is ", "SSN: ", "social security number ", "my social is ", "ss# ", "Social Security No. "])
    return {"id": f"ssn-{index:03d}", "category": "ssn", "messages": [one(before, shown, "SSN", rng.choice(["", ".", " thx"])).done(0)]}


def conv_iban(rng, index):
    value = iban(rng)
    shown = " ".join(value[i:i + 4] for i in range(0, len(value), 4)) if rng.random() < 0.5 else value
    if rng.random() < 0.2:
        shown = shown.lower()
    before = rng.choice(["my IBAN is ", "IBAN: ", "please refund to ", "send it to account ", "iban "])
    return {"id": f"iban-{index:03d}", "category": "iban", "messages": [one(before, shown, "INTERNATIONAL_BANK_ACCOUNT_NUMBER").done(0)]}


def conv_other(rng, index):
    choice = rng.choice(["password", "routing", "nino", "aws"])
    if choice == "password":
        secret = "".join(rng.choice(string.ascii_letters + string.digits + "!#$") for _ in range(rng.randint(8, 14)))
        message = one(rng.choice(["my password is ", "password: ", "pwd="]), secret, "PASSWORD")
    elif choice == "routing":
        message = (Message().add("routing number ").add(rng.choice(["021000021", "011000015", "111000025", "026009593"]), "BANK_ROUTING")
                   .add(" and account number ").add("".join(rng.choice(string.digits) for _ in range(10)), "BANK_ACCOUNT_NUMBER"))
    elif choice == "nino":
        letters = rng.choice(["AB", "CE", "JG", "NP", "SR", "WL"]) 
        digits = "".join(rng.choice(string.digits) for _ in range(6))
        message = one("my national insurance number is ", f"{letters} {digits[:2]} {digits[2:4]} {digits[4:]} {rng.choice('ABCD')}",
                      "UK_NATIONAL_INSURANCE_NUMBER")
    else:
        key = "AKIA" + "".join(rng.choice(string.ascii_uppercase + "234567") for _ in range(16))
        message = one("I accidentally pasted my key ", key, "AWS_ACCESS_KEY", " can you delete it")
    return {"id": f"other-{index:03d}", "category": "other", "messages": [message.done(0)]}


# ---------------------------------------------------------------------------------------------- clean conversations


def clean_message(rng: random.Random) -> str:
    digits = lambda n: "".join(rng.choice(string.digits) for _ in range(n))  # noqa: E731
    templates = [
        lambda: f"Hi, where is my order #{digits(6)}?",
        lambda: f"order {digits(8)} still hasn't shipped",
        lambda: f"My order number is {rng.choice(['A', 'B', 'W'])}{digits(7)}",
        lambda: f"I was charged ${rng.randint(1, 999)}.{digits(2)} twice",
        lambda: f"the total was {rng.randint(1, 9)},{digits(3)}.{digits(2)} USD",
        lambda: f"It arrived on {rng.randint(1, 12)}/{rng.randint(1, 28)}/2025 but broken",
        lambda: f"delivery date 2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        lambda: f"UPS tracking 1Z{digits(3)}AA1{digits(10)}",
        lambda: f"USPS tracking number {digits(4)} {digits(4)} {digits(4)} {digits(4)} {digits(4)} {digits(2)}",
        lambda: f"FedEx says {digits(12)} is delayed",
        lambda: f"DHL waybill {digits(10)}",
        lambda: f"call me at ({digits(3)}) {digits(3)}-{digits(4)}",
        lambda: f"my phone is +44 20 {digits(4)} {digits(4)}",
        lambda: f"SKU {digits(4)}-{digits(4)}-{digits(2)} is out of stock",
        lambda: f"model number XR-{digits(4)}-{digits(2)}",
        lambda: f"part no. {digits(3)}-{digits(3)}-{digits(4)}-B",
        lambda: f"I need {rng.randint(2, 20)} boxes of {rng.randint(6, 48)}",
        lambda: f"can you call at {rng.randint(1, 12)}:{rng.choice(['00', '15', '30', '45'])}pm?",
        lambda: f"ship to zip {digits(5)}",
        lambda: f"the app version is {rng.randint(1, 9)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}",
        lambda: f"I'm in room {rng.randint(100, 999)}",
        lambda: f"flight UA {digits(4)} was cancelled",
        lambda: f"invoice INV-{digits(6)} looks wrong",
        lambda: f"ticket {digits(7)} was closed without a reply",
        lambda: f"I bought {rng.randint(2, 5)} of them for ${rng.randint(10, 99)} each",
        lambda: f"my email is jane.doe{digits(2)}@example.com",
        lambda: f"it says error code {digits(4)}",
        lambda: f"I've been waiting {rng.randint(2, 45)} minutes",
        lambda: f"the serial on the box is SN{digits(10)}",
        lambda: f"reference {digits(4)}/{digits(2)}",
        lambda: f"coupon SAVE{rng.randint(10, 50)} didn't work",
        lambda: f"I ordered two and got one",
        lambda: f"can I pay with a credit card?",
        lambda: f"my card was declined, can you check order {digits(7)}?",
        lambda: f"package weighs {rng.randint(1, 40)}.{rng.randint(0, 9)} kg",
        lambda: f"between 9 and 5 works for me",
        lambda: "thanks!", lambda: "ok", lambda: "😀", lambda: "hello?", lambda: "is anyone there",
        lambda: "I want to return the shoes, size 10", lambda: "gate code is not needed",
        lambda: f"It's apartment {rng.randint(1, 40)}{rng.choice('ABCD')}",
        lambda: f"the receipt shows {digits(2)}:{digits(2)} {rng.choice(['AM', 'PM'])}",
        lambda: f"year {rng.randint(1990, 2025)} model",
    ]
    return rng.choice(templates)()


def conv_clean(rng, index):
    messages, t = [], 0
    for _ in range(rng.randint(1, 4)):
        messages.append(Message().add(clean_message(rng)).done(t))
        t += rng.randint(5, 40)
    return {"id": f"clean-{index:03d}", "category": "clean", "messages": messages}


def main(out: Path = OUT) -> None:
    rng = random.Random(SEED)
    plan = [(conv_card, 70), (conv_card_full, 40), (conv_card_then_details, 25), (conv_card_split, 40), (conv_pin, 40),
            (conv_ssn, 40), (conv_iban, 30), (conv_other, 20), (conv_clean, 200)]
    conversations = [build(rng, index) for build, count in plan for index in range(count)]
    with out.open("w", encoding="utf-8") as stream:
        for conversation in conversations:
            stream.write(json.dumps(conversation, ensure_ascii=False) + "\n")
    messages = sum(len(c["messages"]) for c in conversations)
    print(f"wrote {len(conversations)} conversations, {messages} messages to {out.name}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT)
