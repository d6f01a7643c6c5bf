"""Context words, label words and number words in Connect's six chat languages, selected per redactor or per call."""

from __future__ import annotations

import pytest

from chalicelib import settings
from chalicelib.redaction import languages as lang
from chalicelib.redaction.normalize import normalize
from chalicelib.redaction.redactor import Redactor
from chalicelib.settings import DEFAULT_PII_ENTITY_TYPES

TYPES = frozenset(DEFAULT_PII_ENTITY_TYPES.split(","))
REDACTOR = Redactor(TYPES, card_context=None)


def kinds(text: str, language: str) -> list[str]:
    return [d.entity_type for d in REDACTOR.analyze(text, language=language).spans]


# A value that needs its context word in every language, with that language's words around it.
CONTEXTUAL = {
    "CREDIT_DEBIT_NUMBER": (
        "1000000000000008",
        {  # no issuer: only a card word makes it a card
            "en": "pay with {} please",
            "es": "mi número de tarjeta es {}",
            "fr": "mon numéro de carte est {}",
            "pt": "o número do meu cartão é {}",
            "de": "meine Kartennummer ist {}",
            "it": "il numero della mia carta è {}",
        },
    ),
    "CA_SOCIAL_INSURANCE_NUMBER": (
        "130692544",
        {
            "en": "my SIN is {}",
            "es": "mi número de seguro social canadiense es {}",
            "fr": "mon NAS est {}",
            "pt": "o meu número de seguro social é {}",
            "de": "meine Sozialversicherungsnummer ist {}",
            "it": "il mio numero di assicurazione sociale è {}",
        },
    ),
    "SSN": (
        "078051123",
        {
            "en": "social security number {}",
            "es": "número de seguro social {}",
            "fr": "numéro de sécurité sociale {}",
            "pt": "número de segurança social {}",
            "de": "Sozialversicherungsnummer {}",
            "it": "previdenza sociale {}",
        },
    ),
    "BANK_ROUTING": (
        "021000021",
        {
            "en": "routing number {}",
            "es": "número de ruta {}",
            "fr": "numéro de routage {}",
            "pt": "número de roteamento {}",
            "de": "Routingnummer {}",
            "it": "numero di routing {}",
        },
    ),
    "BANK_ACCOUNT_NUMBER": (
        "000123456789",
        {
            "en": "account number {}",
            "es": "número de cuenta {}",
            "fr": "numéro de compte {}",
            "pt": "número da conta {}",
            "de": "Kontonummer {}",
            "it": "numero di conto {}",
        },
    ),
    "PASSPORT_NUMBER": (
        "L898902C3",
        {
            "en": "passport {}",
            "es": "pasaporte {}",
            "fr": "passeport n° {}",
            "pt": "passaporte nº {}",
            "de": "Reisepass Nr. {}",
            "it": "passaporto n. {}",
        },
    ),
    "DRIVER_ID": (
        "D1234567",
        {
            "en": "driver's license {}",
            "es": "licencia de conducir {}",
            "fr": "permis de conduire {}",
            "pt": "carteira de motorista {}",
            "de": "Führerschein {}",
            "it": "patente di guida {}",
        },
    ),
    "PIN": (
        "4821",
        {
            "en": "my pin is {}",
            "es": "mi clave es {}",
            "fr": "mon code confidentiel est {}",
            "pt": "a senha é {}",
            "de": "meine Geheimzahl ist {}",
            "it": "il codice segreto è {}",
        },
    ),
    "CREDIT_DEBIT_CVV": (
        "123",
        {
            "en": "security code {}",
            "es": "código de seguridad {}",
            "fr": "cryptogramme {}",
            "pt": "código de segurança {}",
            "de": "Prüfnummer {}",
            "it": "codice di sicurezza {}",
        },
    ),
    "CREDIT_DEBIT_EXPIRY": (
        "08/29",
        {
            "en": "expiry date {}",
            "es": "fecha de vencimiento {}",
            "fr": "date d'expiration {}",
            "pt": "validade {}",
            "de": "Ablaufdatum {}",
            "it": "scadenza {}",
        },
    ),
    "PASSWORD": (
        "hunter22",
        {
            "en": "password: {}",
            "es": "contraseña: {}",
            "fr": "mot de passe: {}",
            "pt": "senha: {}",
            "de": "Passwort: {}",
            "it": "password: {}",
        },
    ),
}
CASES = [
    (kind, language, template.format(value))
    for kind, (value, templates) in CONTEXTUAL.items()
    for language, template in templates.items()
]


@pytest.mark.parametrize("kind, language, text", CASES)
def test_each_language_context_words(kind, language, text):
    # That type's detector alone finds it ("seguro social" is both an SSN's and a SIN's word: with every type on,
    # the merged mask may carry the other name; the value is masked either way).
    alone = Redactor(frozenset({kind}), card_context=None)
    assert [d.entity_type for d in alone.analyze(text, language=language).spans] == [kind]
    assert kinds(text, language)


@pytest.mark.parametrize("kind, value", [(k, v) for k, (v, _) in CONTEXTUAL.items()])
def test_without_context_words_the_value_stays(kind, value):
    assert kind not in kinds(f"ref {value}", "en")


def test_other_languages_words_are_not_read():
    """Selected, not merged: French words under PII_LANGUAGE=de are text."""
    assert "CA_SOCIAL_INSURANCE_NUMBER" not in kinds("mon NAS est 130692544", "de")
    assert "CA_SOCIAL_INSURANCE_NUMBER" in kinds("mon NAS est 130692544", "fr")


def test_english_words_are_read_in_every_language():
    for language in lang.LANGUAGES:
        assert "CA_SOCIAL_INSURANCE_NUMBER" in kinds("SIN: 130692544", language)


def test_unaccented_words_count_too():
    assert "BANK_ACCOUNT_NUMBER" in kinds("numero de cuenta 000123456789", "es")
    assert "CREDIT_DEBIT_NUMBER" in kinds("o numero do meu cartao e 1000000000000008", "pt")


# Spelled-out numbers, per language: a PIN and a card read aloud.
SPOKEN = {
    "en": ("my pin is one two three four", "card four one one one one one one one one one one one one one one one"),
    "es": (
        "mi clave es uno dos tres cuatro",
        "tarjeta cuatro uno uno uno uno uno uno uno uno uno uno uno uno uno uno uno",
    ),
    "fr": ("mon code pin est un deux trois quatre", "carte quatre un un un un un un un un un un un un un un un"),
    "pt": ("o pin é um dois três quatro", "cartão quatro um um um um um um um um um um um um um um um"),
    "de": (
        "meine PIN ist eins zwei drei vier",
        "Karte vier eins eins eins eins eins eins eins eins eins eins eins eins eins eins eins",
    ),
    "it": (
        "il mio pin è uno due tre quattro",
        "carta quattro uno uno uno uno uno uno uno uno uno uno uno uno uno uno uno",
    ),
}


@pytest.mark.parametrize("language", lang.LANGUAGES)
def test_each_language_number_words(language):
    pin, card = SPOKEN[language]
    assert "1234" in normalize(pin, language).text
    assert "4111111111111111" in normalize(card, language).text
    assert REDACTOR.redact(pin, language=language).text.endswith("[PIN]")
    assert REDACTOR.redact(card, language=language).text.endswith("[CREDIT_DEBIT_NUMBER]")


@pytest.mark.parametrize(
    "language, text",
    [
        ("fr", "il y a un problème avec une commande"),
        ("de", "Ich habe eine Frage zu meiner Bestellung"),
        ("it", "sei tre volte in ritardo"),
        ("pt", "um dia uma semana"),
        ("es", "una pregunta sobre uno de mis pedidos"),
    ],
)
def test_articles_that_are_number_words_stay_text(language, text):
    assert normalize(text, language).text == text


@pytest.mark.parametrize(
    "language, text",
    [
        ("en", "my tracking number is 122816215025810"),
        ("es", "el paquete 122816215025810 sigue en tránsito"),
        ("fr", "mon numéro de suivi est 122816215025810"),
        ("pt", "o meu código de rastreio é 122816215025810"),
        ("de", "das Paket 122816215025810 ist noch unterwegs"),
        ("it", "il pacco 122816215025810 è ancora in transito"),
    ],
)
def test_each_language_label_words(language, text):
    assert kinds(text, language) == []


def test_language_per_call_and_per_redactor():
    french = Redactor(TYPES, language="fr", card_context=None)
    assert french.redact("mon NAS est 130692544").text == "mon NAS est [CA_SOCIAL_INSURANCE_NUMBER]"
    assert french.redact("mon NAS est 130692544", language="en").text == "mon NAS est 130692544"
    assert REDACTOR.redact("mon NAS est 130692544", language="fr").text == "mon NAS est [CA_SOCIAL_INSURANCE_NUMBER]"
    with pytest.raises(ValueError):
        REDACTOR.redact("x", language="nl")


def test_pii_language_setting_takes_the_six_languages():
    for language in lang.LANGUAGES:
        assert settings.Settings(env={"PII_LANGUAGE": language}).redaction.language == language
    assert settings.PII_LANGUAGES == lang.LANGUAGES
    with pytest.raises(settings.SettingsError):
        settings.Settings(env={"PII_LANGUAGE": "nl"}).redaction
    with pytest.raises(settings.SettingsError, match="PII_ENGINE=local"):
        settings.Settings(env={"PII_LANGUAGE": "fr", "PII_ENGINE": "comprehend"}).redaction
