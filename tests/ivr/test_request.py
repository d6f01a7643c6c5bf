"""Where the ciphertext is read from in the contact-flow event, and in which order."""

from __future__ import annotations

from chalicelib.ivr.request import IvrRequest


def event(parameters=None, attributes=None, contact_id="c-1"):
    return {
        "Details": {
            "ContactData": {"ContactId": contact_id, "Attributes": attributes or {}},
            "Parameters": parameters or {},
        },
        "Name": "ContactFlowEvent",
    }


def test_a_function_parameter_wins_over_the_contact_attribute():
    request = IvrRequest.from_event(event({"EncryptedValue": "param"}, {"EncryptedCreditCard": "attribute"}))
    assert request == IvrRequest(ciphertext="param", contact_id="c-1")


def test_parameter_order():
    both = {"EncryptedInput": "second", "EncryptedCreditCard": "third", "EncryptedValue": "first"}
    assert IvrRequest.from_event(event(both)).ciphertext == "first"
    del both["EncryptedValue"]
    assert IvrRequest.from_event(event(both)).ciphertext == "second"


def test_empty_and_non_string_values_are_skipped():
    request = IvrRequest.from_event(event({"EncryptedValue": "", "EncryptedInput": 12}, {"EncryptedCreditCard": "x"}))
    assert request.ciphertext == "x"


def test_other_attributes_are_never_read():
    assert IvrRequest.from_event(event(attributes={"EncryptedValue": "x"})).ciphertext is None


def test_a_contact_id_that_is_not_a_string_is_dropped():
    assert IvrRequest.from_event(event({"EncryptedValue": "x"}, contact_id=["c"])).contact_id is None
