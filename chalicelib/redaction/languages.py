"""The words detectors read, in Amazon Connect's six chat languages: en, es, fr, pt, de, it.

Contact Lens redacts chat in these six languages; `PII_LANGUAGE` (or the `language` a caller passes per
contact) selects one. English words are always read too: customers writing in any language still say
"IBAN", "PIN", "CVV" or "SSN", and agents' prompts are often in English. A word that is an everyday word in
the selected language is dropped from the English list there (Spanish and French "ni" mean "nor").

Three kinds of words:
- context words per entity type: a number of the right shape is that entity only when one of these is in the
  message ("my SIN is ...", "mon NAS est ...");
- *label* words (LABELS): words saying a number is something else — a tracking, order, invoice or IMEI
  number. They stop the rules that mask a card-like number without a card word;
- number words (NUMBER_WORDS): spelled-out digits, read by normalize.py ("quatre un un un ...").

Every accented phrase also matches without its accents ("numero", "telefono"): customers type both.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import cache

LANGUAGES = ("en", "es", "fr", "pt", "de", "it")

# Entity type -> language -> context phrases (lower case; a space matches any run of spaces).
CONTEXT: dict[str, dict[str, tuple[str, ...]]] = {
    "CREDIT_DEBIT_NUMBER": {
        "en": (
            "card",
            "credit",
            "debit",
            "visa",
            "mastercard",
            "master card",
            "amex",
            "american express",
            "discover",
            "maestro",
            "jcb",
            "unionpay",
            "diners",
            "cc",
            "pan",
            "card number",
            "card no",
            "charge",
            "charge it",
            "charged",
            "charged to",
            "pay with",
            "pay by",
            "paid with",
            "paid by",
            "payment",
            "bill it",
            "uatp",
            "elo",
            "rupay",
            "mir",
            "dankort",
            "bancontact",
        ),
        "es": (
            "tarjeta",
            "tarjeta de crédito",
            "tarjeta de débito",
            "número de tarjeta",
            "crédito",
            "débito",
            "cobrar",
            "cobren",
            "pagar con",
            "pago con",
            "cárguenlo",
        ),
        "fr": (
            "carte",
            "carte bancaire",
            "carte de crédit",
            "carte bleue",
            "cb",
            "numéro de carte",
            "débiter",
            "débitez",
            "payer avec",
            "payer par",
            "paiement",
        ),
        "pt": (
            "cartão",
            "cartão de crédito",
            "cartão de débito",
            "número do cartão",
            "crédito",
            "débito",
            "cobrar",
            "cobrem",
            "pagar com",
            "pagamento",
        ),
        "de": (
            "karte",
            "kreditkarte",
            "debitkarte",
            "bankkarte",
            "kartennummer",
            "ec-karte",
            "girocard",
            "abbuchen",
            "buchen sie",
            "bezahlen",
            "zahlen mit",
            "zahlung",
            "belasten",
        ),
        "it": (
            "carta",
            "carta di credito",
            "carta di debito",
            "numero della carta",
            "bancomat",
            "addebitare",
            "addebitate",
            "pagare con",
            "pagamento",
        ),
    },
    "CREDIT_DEBIT_CVV": {
        "en": (
            "cvv",
            "cvv2",
            "cvc",
            "cvc2",
            "cvn",
            "cid",
            "csc",
            "security code",
            "code on the back",
            "card code",
            "verification code",
            "verification number",
            "verification value",
            "3 digit code",
            "three digit code",
            "4 digit code",
            "on the back",
        ),
        "es": ("código de seguridad", "código cvv", "código de verificación", "código de atrás"),
        "fr": ("cryptogramme", "code de sécurité", "code de vérification", "code au dos"),
        "pt": ("código de segurança", "código de verificação", "código do verso"),
        "de": ("prüfnummer", "kartenprüfnummer", "sicherheitscode", "prüfziffer", "code auf der rückseite"),
        "it": ("codice di sicurezza", "codice di verifica", "codice sul retro"),
    },
    # Strong words name a card's expiry outright; weak ones ("valid until") only beside a card word.
    "CREDIT_DEBIT_EXPIRY": {
        "en": (
            "exp",
            "expiry",
            "expiry date",
            "exp date",
            "expiration",
            "expiration date",
            "valid thru",
            "good thru",
            "good through",
            "valid through",
        ),
        "es": ("vencimiento", "fecha de vencimiento", "fecha de caducidad", "caducidad"),
        "fr": ("date d'expiration", "date de validité", "fin de validité"),
        "pt": ("validade", "data de validade", "vencimento"),
        "de": ("ablaufdatum", "gültig bis ende", "verfallsdatum", "verfall"),
        "it": ("scadenza", "data di scadenza"),
    },
    "CREDIT_DEBIT_EXPIRY_WEAK": {
        "en": ("expires", "expire", "valid until", "valid till", "until"),
        "es": ("vence", "caduca", "válida hasta", "válido hasta"),
        "fr": ("expire", "valable jusqu'au", "valable jusqu'à"),
        "pt": ("vence", "válido até", "válida até", "expira"),
        "de": ("gültig bis", "läuft ab"),
        "it": ("scade", "valida fino al", "valido fino al"),
    },
    "PIN": {
        "en": ("pin", "pin number", "pin code", "passcode", "atm code", "security pin"),
        "es": ("pin", "mi clave", "clave", "nip", "número secreto"),
        "fr": ("code pin", "code confidentiel", "code secret"),
        "pt": ("pin", "senha do cartão", "código pin", "senha"),
        "de": ("pin", "geheimzahl", "geheimnummer"),
        "it": ("pin", "codice segreto", "codice pin"),
    },
    "PASSWORD": {
        "en": ("password", "passwd", "pwd", "pass code"),
        "es": ("contraseña",),
        "fr": ("mot de passe",),
        "pt": ("senha", "palavra-passe"),
        "de": ("passwort", "kennwort"),
        "it": ("password", "parola d'ordine"),
    },
    "SSN": {
        "en": ("ssn", "ss#", "ss #", "social security", "social", "ss number", "ssn#"),
        "es": ("seguro social", "número de seguro social", "seguridad social"),
        "fr": ("sécurité sociale", "numéro de sécurité sociale"),
        "pt": ("segurança social", "seguro social", "previdência social"),
        "de": ("sozialversicherungsnummer", "sozialversicherung"),
        "it": ("previdenza sociale", "sicurezza sociale"),
    },
    "US_INDIVIDUAL_TAX_IDENTIFICATION_NUMBER": {
        "en": ("itin", "taxpayer", "tax id", "tax identification", "tin"),
        "es": ("identificación del contribuyente", "identificación fiscal", "contribuyente"),
        "fr": ("identification fiscale", "numéro fiscal"),
        "pt": ("identificação fiscal", "contribuinte"),
        "de": ("steuernummer", "steuer-id", "steueridentifikationsnummer"),
        "it": ("codice fiscale", "identificazione fiscale"),
    },
    "CA_SOCIAL_INSURANCE_NUMBER": {
        "en": ("sin", "social insurance", "insurance number", "sin number"),
        "es": ("seguro social canadiense", "seguro social", "número de seguro social"),
        "fr": ("nas", "numéro d'assurance sociale", "assurance sociale"),
        "pt": ("seguro social", "número de seguro social"),
        "de": ("sozialversicherungsnummer", "sozialversicherung"),
        "it": ("assicurazione sociale",),
    },
    "UK_NATIONAL_HEALTH_SERVICE_NUMBER": {
        "en": ("nhs", "health service", "nhs number", "health number"),
        "es": ("número nhs",),
        "fr": ("numéro nhs",),
        "pt": ("número nhs",),
        "de": ("nhs-nummer",),
        "it": ("numero nhs",),
    },
    "UK_NATIONAL_INSURANCE_NUMBER": {
        "en": ("ni", "ni number", "nino", "national insurance", "insurance number"),
        "es": ("seguro nacional", "número de seguro nacional"),
        "fr": ("assurance nationale",),
        "pt": ("seguro nacional",),
        "de": ("national-insurance", "ni-nummer", "versicherungsnummer"),
        "it": ("assicurazione nazionale",),
    },
    "BANK_ROUTING": {
        "en": ("routing", "aba", "rtn", "transit", "routing number", "routing no"),
        "es": ("número de ruta", "ruta bancaria", "número de tránsito"),
        "fr": ("numéro de routage", "code aba", "numéro de transit"),
        "pt": ("número de roteamento", "roteamento"),
        "de": ("routingnummer", "routing-nummer", "bankleitzahl"),
        "it": ("numero di routing", "codice aba"),
    },
    # Whole-message context; "account" itself opens BANK_ACCOUNT_LEADS (a value right after it).
    "BANK_ACCOUNT_NUMBER": {
        "en": (
            "account number",
            "account no",
            "account #",
            "acct",
            "a/c",
            "checking",
            "savings",
            "bank account",
            "account ending",
            "account is",
            "routing",
        ),
        "es": ("número de cuenta", "cuenta corriente", "cuenta de ahorro", "cuenta bancaria", "cuenta"),
        "fr": ("numéro de compte", "compte courant", "compte bancaire", "compte"),
        "pt": ("número da conta", "conta corrente", "conta poupança", "conta bancária", "conta"),
        "de": ("kontonummer", "girokonto", "sparkonto", "bankkonto", "konto"),
        "it": ("numero di conto", "conto corrente", "conto bancario", "conto"),
    },
    "PASSPORT_NUMBER": {
        "en": ("passport", "passport number", "travel document"),
        "es": ("pasaporte",),
        "fr": ("passeport",),
        "pt": ("passaporte",),
        "de": ("reisepass", "reisepassnummer", "passnummer"),
        "it": ("passaporto",),
    },
    "DRIVER_ID": {
        "en": (
            "driver's license",
            "drivers license",
            "driver license",
            "driving licence",
            "driving license",
            "licence",
            "license",
            "dl",
            "driver id",
            "licence number",
            "license number",
        ),
        "es": ("licencia de conducir", "permiso de conducir", "carnet de conducir", "licencia"),
        "fr": ("permis de conduire", "numéro de permis", "permis"),
        "pt": ("carteira de motorista", "carta de condução", "carta de conducao", "cnh", "habilitação"),
        "de": ("führerschein", "führerscheinnummer"),
        "it": ("patente", "patente di guida", "numero patente"),
    },
    "SWIFT_CODE": {
        "en": ("swift", "bic", "swift code", "bank code", "bic code"),
        "es": ("código swift", "código bic"),
        "fr": ("code swift", "code bic"),
        "pt": ("código swift",),
        "de": ("swift-code", "bic-code"),
        "it": ("codice swift", "codice bic"),
    },
    "PHONE": {
        "en": (
            "phone",
            "tel",
            "telephone",
            "call",
            "mobile",
            "cell",
            "fax",
            "desk",
            "office",
            "home",
            "work",
            "whatsapp",
            "text me",
            "sms",
            "contact",
            "number",
            "reach",
            "ring",
            "dial",
            "landline",
            "registered",
        ),
        "es": ("teléfono", "celular", "móvil", "llámame", "llamar", "número"),
        "fr": ("téléphone", "portable", "mobile", "appelez", "numéro"),
        "pt": ("telefone", "celular", "telemóvel", "ligue", "número"),
        "de": ("telefon", "handy", "mobil", "rufnummer", "telefonnummer", "anrufen", "nummer"),
        "it": ("telefono", "cellulare", "chiamami", "numero"),
    },
    "AWS_SECRET_KEY": {
        "en": ("secret", "aws", "secret key", "secret access key", "aws_secret_access_key", "key"),
        "es": ("clave secreta",),
        "fr": ("clé secrète",),
        "pt": ("chave secreta",),
        "de": ("geheimer schlüssel",),
        "it": ("chiave segreta",),
    },
}

# Words that name a number as something other than a card (or any personal number): a card-shaped number
# after one of these needs a card word to be masked, and never starts a card typed over several messages.
LABELS: dict[str, tuple[str, ...]] = {
    "en": (
        "imei",
        "imsi",
        "meid",
        "serial",
        "serial number",
        "tracking",
        "tracking number",
        "parcel",
        "package",
        "shipment",
        "consignment",
        "order",
        "order number",
        "invoice",
        "invoice number",
        "receipt",
        "reference",
        "ref",
        "reservation",
        "booking",
        "confirmation",
        "ticket",
        "case",
        "case number",
        "isbn",
        "ean",
        "upc",
        "gtin",
        "barcode",
        "sku",
        "container",
        "build",
        "version",
        "model",
        "part number",
        "claim",
        "policy",
        "membership",
        "member",
        "loyalty",
        "voucher",
        "gift card code",
        "coupon",
        "transaction id",
        "isin",
        "ismn",
    ),
    "es": (
        "seguimiento",
        "número de seguimiento",
        "paquete",
        "envío",
        "pedido",
        "factura",
        "recibo",
        "referencia",
        "reserva",
        "localizador",
        "confirmación",
        "ticket",
        "caso",
        "código de barras",
        "contenedor",
        "versión",
        "modelo",
        "número de serie",
        "póliza",
        "socio",
        "cupón",
    ),
    "fr": (
        "suivi",
        "numéro de suivi",
        "colis",
        "envoi",
        "commande",
        "facture",
        "reçu",
        "référence",
        "réservation",
        "confirmation",
        "dossier",
        "code-barres",
        "code barre",
        "conteneur",
        "version",
        "modèle",
        "numéro de série",
        "police",
        "adhérent",
        "bon",
    ),
    "pt": (
        "rastreio",
        "código de rastreio",
        "rastreamento",
        "encomenda",
        "pacote",
        "envio",
        "pedido",
        "fatura",
        "recibo",
        "referência",
        "reserva",
        "confirmação",
        "protocolo",
        "código de barras",
        "contentor",
        "contêiner",
        "versão",
        "modelo",
        "número de série",
        "apólice",
        "sócio",
        "cupom",
    ),
    "de": (
        "sendungsnummer",
        "sendung",
        "paket",
        "tracking",
        "bestellung",
        "bestellnummer",
        "rechnung",
        "rechnungsnummer",
        "beleg",
        "referenz",
        "buchung",
        "buchungsnummer",
        "reservierung",
        "bestätigung",
        "ticket",
        "vorgang",
        "vorgangsnummer",
        "barcode",
        "strichcode",
        "container",
        "version",
        "modell",
        "seriennummer",
        "kundennummer",
        "police",
        "gutschein",
    ),
    "it": (
        "tracking",
        "spedizione",
        "pacco",
        "ordine",
        "fattura",
        "ricevuta",
        "riferimento",
        "prenotazione",
        "conferma",
        "pratica",
        "codice a barre",
        "container",
        "versione",
        "modello",
        "numero di serie",
        "polizza",
        "tessera",
        "buono",
    ),
}

# Words meaning "number" / "no." (and "is"), which sit between a keyword and its value: "passport no. X",
# "numéro de passeport : X", "Reisepass Nr. X", "passaporto n. X".
FILLERS: dict[str, tuple[str, ...]] = {
    "en": ("is", "was", "number", "num", "no", "code", "it's", "its", "it is", "my", "the", "of", "nr"),
    "es": ("es", "número", "numero", "núm", "nº", "n°", "mi", "el", "la", "de", "del"),
    "fr": ("est", "c'est", "numéro", "numero", "n°", "no", "mon", "ma", "le", "la", "de", "du"),
    "pt": ("é", "e", "número", "numero", "nº", "n°", "meu", "minha", "o", "a", "de", "do", "da"),
    "de": ("ist", "nummer", "nr", "meine", "mein", "die", "der", "das"),
    "it": ("è", "e'", "numero", "n", "n°", "nº", "il", "la", "mio", "mia", "di", "del", "della"),
}

# Spelled-out digits. Articles that are also "one" (un, une, ein, um, uma, uno, una) count only inside a
# sequence of other number words (normalize.py's rule for weak words).
NUMBER_WORDS: dict[str, dict[str, str]] = {
    "en": {
        "zero": "0",
        "oh": "0",
        "o": "0",
        "one": "1",
        "two": "2",
        "three": "3",
        "four": "4",
        "five": "5",
        "six": "6",
        "seven": "7",
        "eight": "8",
        "nine": "9",
    },
    "es": {
        "cero": "0",
        "uno": "1",
        "una": "1",
        "dos": "2",
        "tres": "3",
        "cuatro": "4",
        "cinco": "5",
        "seis": "6",
        "siete": "7",
        "ocho": "8",
        "nueve": "9",
    },
    "fr": {
        "zéro": "0",
        "zero": "0",
        "un": "1",
        "une": "1",
        "deux": "2",
        "trois": "3",
        "quatre": "4",
        "cinq": "5",
        "six": "6",
        "sept": "7",
        "huit": "8",
        "neuf": "9",
    },
    "pt": {
        "zero": "0",
        "um": "1",
        "uma": "1",
        "dois": "2",
        "duas": "2",
        "três": "3",
        "tres": "3",
        "quatro": "4",
        "cinco": "5",
        "seis": "6",
        "meia": "6",
        "sete": "7",
        "oito": "8",
        "nove": "9",
    },
    "de": {
        "null": "0",
        "eins": "1",
        "ein": "1",
        "eine": "1",
        "zwei": "2",
        "zwo": "2",
        "drei": "3",
        "vier": "4",
        "fünf": "5",
        "fuenf": "5",
        "sechs": "6",
        "sieben": "7",
        "acht": "8",
        "neun": "9",
    },
    "it": {
        "zero": "0",
        "uno": "1",
        "una": "1",
        "due": "2",
        "tre": "3",
        "quattro": "4",
        "cinque": "5",
        "sei": "6",
        "sette": "7",
        "otto": "8",
        "nove": "9",
    },
}
# Number words that are also everyday words: digits only inside a sequence holding another number word.
WEAK_NUMBER_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset({"o"}),
    "es": frozenset({"una"}),
    "fr": frozenset({"un", "une", "neuf"}),
    "pt": frozenset({"um", "uma", "meia"}),
    "de": frozenset({"ein", "eine", "acht"}),
    "it": frozenset({"una", "sei"}),
}
REPEAT_WORDS: dict[str, dict[str, int]] = {
    "en": {"double": 2, "triple": 3},
    "es": {"doble": 2, "triple": 3},
    "fr": {"double": 2, "triple": 3},
    "pt": {"duplo": 2, "dobro": 2, "triplo": 3},
    "de": {"doppel": 2, "doppelt": 2, "dreifach": 3},
    "it": {"doppio": 2, "triplo": 3},
}
# English words that are everyday words in another language: not read as context there.
# ("sin" stays: a Luhn-valid 3-3-3 number beside Spanish "sin" is rare, and a SIN typed there is not.)
_NOT_ENGLISH_THERE: dict[str, frozenset[str]] = {
    "es": frozenset({"ni"}),
    "fr": frozenset({"ni"}),
}


def check_language(language: str) -> str:
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}")
    return language


def _unaccented(phrase: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFD", phrase) if unicodedata.category(ch) != "Mn")


def _with_variants(phrases: Iterable[str]) -> tuple[str, ...]:
    out: dict[str, None] = {}
    for phrase in phrases:
        out[phrase] = None
        out[_unaccented(phrase)] = None
    return tuple(out)


@cache
def context_words(entity_type: str, language: str) -> tuple[str, ...]:
    """English context words plus the selected language's, accent-free variants included."""
    table = CONTEXT[entity_type]
    english = tuple(w for w in table.get("en", ()) if w not in _NOT_ENGLISH_THERE.get(language, frozenset()))
    return _with_variants(english + (table.get(language, ()) if language != "en" else ()))


@cache
def label_words(language: str) -> tuple[str, ...]:
    return _with_variants(LABELS["en"] + (LABELS[language] if language != "en" else ()))


@cache
def filler_words(language: str) -> tuple[str, ...]:
    return _with_variants(FILLERS["en"] + (FILLERS[language] if language != "en" else ()))


def hints_of(phrases: tuple[str, ...]) -> tuple[str, ...]:
    """Cheap substrings, one of which a text must hold to contain one of `phrases`: each phrase's longest word
    (the rarest, usually: "clave" for "mi clave", "seguridad" for "código de seguridad")."""
    return tuple(dict.fromkeys(max(p.split(), key=len) for p in phrases))


def prefix_tree(words: Iterable[str]) -> str:
    """A regex matching any of `words` literally (a space: any run of whitespace), factored by common prefixes
    ("ab(?:a|ia)"): Python's engine tries alternatives one by one, so sharing prefixes is what makes one search
    beat many `in` tests. A longer word is tried before its prefix ("card number" before "card")."""
    branches: dict[str, list[str]] = {}
    for word in dict.fromkeys(w.lower() for w in words):
        branches.setdefault(word[:1], []).append(word[1:])
    alternatives = []
    for head, tails in sorted(branches.items()):
        if not head:
            continue
        rest = [tail for tail in tails if tail]
        body = prefix_tree(rest) if rest else ""
        if body and len(rest) < len(tails):  # the head alone is a word too: the rest is optional
            body = f"(?:{body})?"
        alternatives.append((r"\s+" if head == " " else re.escape(head)) + body)
    return alternatives[0] if len(alternatives) == 1 else "(?:" + "|".join(alternatives) + ")"
