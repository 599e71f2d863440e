"""Every word of the contact form's pages, in Spanish (formal usted) and English."""

from __future__ import annotations

from dataclasses import dataclass

from atiende_contracts import ContactKind
from atiende_runtime.languages import Language

from ...domain.webform import MAX_LENGTHS, FormProblem


@dataclass(frozen=True)
class PageText:
    """Every string of the form's pages in one language."""

    language_name: str  # how the language names itself, for the language switch
    other_languages: str
    title: str
    intro: str
    required_note: str
    optional: str
    about_you: str
    name_label: str
    email_label: str
    email_hint: str
    phone_label: str
    phone_hint: str
    your_message: str
    kind_legend: str
    kind_labels: dict[ContactKind, str]
    motive_label: str
    motive_placeholder: str
    description_label: str
    description_hint: str
    expectation_label: str
    expectation_hint: str
    case_number_label: str
    case_number_hint: str
    consent_label: str
    consent_hint: str
    honeypot_label: str
    submit: str
    error_summary: str
    messages: dict[str, str]
    """By "field.problem", else by problem; `{max}` is the field's length limit."""
    not_recorded: str
    thanks_title: str
    thanks_opened: str
    thanks_joined: str
    thanks_recorded: str
    thanks_keep_number: str
    send_another: str
    too_many_title: str
    too_many_body: str
    unsupported_title: str
    unsupported_body: str
    field_names: dict[str, str]
    """Short names of the fields, for the error summary."""

    def describe(self, name: str, problem: FormProblem) -> str:
        message = self.messages.get(f"{name}.{problem.value}") or self.messages[problem.value]
        return message.format(max=MAX_LENGTHS.get(name, 0))


SPANISH = PageText(
    language_name="Español",
    other_languages="Otros idiomas",
    title="Escríbanos",
    intro="Cuéntenos qué ha pasado y le responderemos por correo electrónico. "
    "Si ya nos ha escrito o llamado por el mismo asunto, no se preocupe: lo uniremos a su caso.",
    required_note="Los campos marcados con * son obligatorios.",
    optional="(opcional)",
    about_you="Sus datos",
    name_label="Nombre y apellidos",
    email_label="Correo electrónico",
    email_hint="Le responderemos a esta dirección.",
    phone_label="Teléfono",
    phone_hint="Con el prefijo del país si no es un número español, por ejemplo +34 612 345 678.",
    your_message="Su mensaje",
    kind_legend="¿Qué desea hacer?",
    kind_labels={
        ContactKind.COMPLAINT: "Presentar una queja",
        ContactKind.CLAIM: "Reclamar algo (un reembolso, una reparación, un cambio…)",
        ContactKind.INFORMATION_REQUEST: "Pedir información",
        ContactKind.SUGGESTION: "Hacer una sugerencia",
        ContactKind.COMPLIMENT: "Felicitarnos por algo",
    },
    motive_label="¿Sobre qué es?",
    motive_placeholder="Elija una opción",
    description_label="¿Qué ha ocurrido?",
    description_hint="Incluya lo que nos ayude a entenderlo: fechas, números de pedido o "
    "factura, dónde ocurrió.",
    expectation_label="¿Qué lo solucionaría para usted?",
    expectation_hint="Por ejemplo: que me devuelvan el importe, que me llamen, recibir el "
    "pedido antes del viernes.",
    case_number_label="Número de caso",
    case_number_hint="Si ya tiene uno por este asunto, por ejemplo AT-2026-000123.",
    consent_label="Acepto recibir, cuando se resuelva mi caso, una breve encuesta sobre cómo "
    "me han atendido.",
    consent_hint="Solo una, de un minuto, y siempre podrá no responderla.",
    honeypot_label="No rellene este campo",
    submit="Enviar mensaje",
    error_summary="Revise los siguientes datos:",
    messages={
        "missing": "Este dato es obligatorio.",
        "name.missing": "Escriba su nombre.",
        "email.missing": "Escriba su correo electrónico: le responderemos allí.",
        "kind.missing": "Elija qué desea hacer.",
        "motive.missing": "Elija sobre qué es su mensaje.",
        "description.missing": "Cuéntenos qué ha ocurrido.",
        "too_long": "Es demasiado largo: como máximo {max} caracteres.",
        "invalid_email": "Revise la dirección: debe tener la forma nombre@ejemplo.com.",
        "invalid_phone": "Revise el número: no parece un teléfono válido. Si no es español, "
        "escriba el prefijo del país (+…).",
        "not_an_option": "Elija una de las opciones.",
        "invalid_case_number": "Un número de caso tiene la forma AT-2026-000123.",
        "unknown_case": "No encontramos ningún caso con este número. Revíselo o deje el campo "
        "vacío.",
    },
    not_recorded="No hemos podido registrar su mensaje. Inténtelo de nuevo en unos minutos o "
    "escríbanos por correo electrónico.",
    thanks_title="Mensaje recibido",
    thanks_opened="Hemos abierto el caso {number} con su mensaje. Le enviaremos una "
    "confirmación por correo electrónico.",
    thanks_joined="Hemos añadido su mensaje a su caso {number}, junto a todo lo que ya nos "
    "había contado.",
    thanks_recorded="Gracias por escribirnos. Hemos recibido su mensaje y lo haremos llegar "
    "al equipo.",
    thanks_keep_number="Conserve este número: si vuelve a contactarnos por este asunto, "
    "indíquelo y no tendrá que repetir nada.",
    send_another="Enviar otro mensaje",
    too_many_title="Demasiados envíos",
    too_many_body="Hemos recibido varios mensajes desde su conexión en poco tiempo. Espere "
    "{minutes} minuto(s) y vuelva a intentarlo.",
    unsupported_title="Envío no válido",
    unsupported_body="No hemos podido leer el formulario enviado. Vuelva a abrir la página y "
    "envíelo de nuevo.",
    field_names={
        "name": "Nombre",
        "email": "Correo electrónico",
        "phone": "Teléfono",
        "kind": "Qué desea hacer",
        "motive": "Sobre qué es",
        "description": "Qué ha ocurrido",
        "expectation": "Qué lo solucionaría",
        "case_number": "Número de caso",
    },
)

ENGLISH = PageText(
    language_name="English",
    other_languages="Other languages",
    title="Contact us",
    intro="Tell us what happened and we will answer by email. If you have already written or "
    "called about the same matter, don't worry: we will add this to your case.",
    required_note="Fields marked * are required.",
    optional="(optional)",
    about_you="About you",
    name_label="Full name",
    email_label="Email",
    email_hint="We will answer at this address.",
    phone_label="Phone",
    phone_hint="With the country code unless it is a Spanish number, e.g. +44 20 7946 0958.",
    your_message="Your message",
    kind_legend="What would you like to do?",
    kind_labels={
        ContactKind.COMPLAINT: "Make a complaint",
        ContactKind.CLAIM: "Claim something (a refund, a repair, a replacement…)",
        ContactKind.INFORMATION_REQUEST: "Ask for information",
        ContactKind.SUGGESTION: "Make a suggestion",
        ContactKind.COMPLIMENT: "Pay us a compliment",
    },
    motive_label="What is it about?",
    motive_placeholder="Choose one",
    description_label="What happened?",
    description_hint="Include whatever helps us understand: dates, order or invoice numbers, "
    "where it happened.",
    expectation_label="What would solve this for you?",
    expectation_hint="For example: a refund, a call back, getting the order before Friday.",
    case_number_label="Case number",
    case_number_hint="If you already have one for this matter, e.g. AT-2026-000123.",
    consent_label="When my case is solved, I agree to receive a short survey about how you "
    "handled it.",
    consent_hint="Just one, it takes a minute, and answering is always optional.",
    honeypot_label="Leave this field empty",
    submit="Send message",
    error_summary="Please check the following:",
    messages={
        "missing": "This is required.",
        "name.missing": "Enter your name.",
        "email.missing": "Enter your email: we will answer there.",
        "kind.missing": "Choose what you would like to do.",
        "motive.missing": "Choose what your message is about.",
        "description.missing": "Tell us what happened.",
        "too_long": "This is too long: {max} characters at most.",
        "invalid_email": "Check the address: it should look like name@example.com.",
        "invalid_phone": "Check the number: it does not look like a valid phone number. If it "
        "is not Spanish, start with the country code (+…).",
        "not_an_option": "Choose one of the options.",
        "invalid_case_number": "A case number looks like AT-2026-000123.",
        "unknown_case": "We cannot find a case with this number. Check it, or leave the field "
        "empty.",
    },
    not_recorded="We could not record your message. Please try again in a few minutes, or "
    "write to us by email.",
    thanks_title="Message received",
    thanks_opened="We have opened case {number} with your message. We will send you a "
    "confirmation by email.",
    thanks_joined="We have added your message to your case {number}, with everything you had "
    "already told us.",
    thanks_recorded="Thank you for writing to us. We have received your message and will pass "
    "it on to the team.",
    thanks_keep_number="Keep this number: if you contact us again about this matter, mention "
    "it and you will not have to repeat anything.",
    send_another="Send another message",
    too_many_title="Too many messages",
    too_many_body="We have received several messages from your connection in a short time. "
    "Please wait {minutes} minute(s) and try again.",
    unsupported_title="Invalid submission",
    unsupported_body="We could not read the form you sent. Please open the page again and "
    "send it once more.",
    field_names={
        "name": "Name",
        "email": "Email",
        "phone": "Phone",
        "kind": "What you would like to do",
        "motive": "What it is about",
        "description": "What happened",
        "expectation": "What would solve it",
        "case_number": "Case number",
    },
)

PAGE_TEXTS: dict[Language, PageText] = {Language.ES: SPANISH, Language.EN: ENGLISH}
