"""Every word of the survey pages, per language."""

from __future__ import annotations

from dataclasses import dataclass

from atiende_runtime.languages import DEFAULT_LANGUAGE, Language

from ...domain import COMMENT_MAX_LENGTH, AnswerProblem


@dataclass(frozen=True)
class PageText:
    """Every string of the survey pages in one language. `{number}` is the case number."""

    language_name: str  # how the language names itself, for the language switch
    other_languages: str
    title: str
    optional_note: str
    question: str
    satisfaction_labels: tuple[str, str, str, str, str]  # for 1..5
    comment_label: str
    comment_hint: str
    submit: str
    error_summary: str
    field_names: dict[str, str]
    satisfaction_missing: str
    satisfaction_not_1_to_5: str
    comment_too_long: str
    thanks_title: str
    thanks_body: str
    already_answered_title: str
    already_answered_body: str
    expired_title: str
    expired_body: str
    not_found_title: str
    not_found_body: str

    def describe(self, problem: AnswerProblem) -> str:
        message: str = getattr(self, problem.value)
        return message.format(max=COMMENT_MAX_LENGTH)


SPANISH = PageText(
    language_name="Español",
    other_languages="Otros idiomas",
    title="Encuesta de satisfacción",
    optional_note="Responder es opcional y le tomará menos de un minuto.",
    question="¿Cómo valora la forma en que atendimos su caso {number}?",
    satisfaction_labels=(
        "Muy insatisfactoria",
        "Insatisfactoria",
        "Ni satisfactoria ni insatisfactoria",
        "Satisfactoria",
        "Muy satisfactoria",
    ),
    comment_label="¿Desea contarnos algo más? (opcional)",
    comment_hint="Hasta {max} caracteres.",
    submit="Enviar respuesta",
    error_summary="Revise el formulario:",
    field_names={"satisfaction": "Valoración", "comment": "Comentario"},
    satisfaction_missing="Elija una valoración del 1 al 5.",
    satisfaction_not_1_to_5="La valoración debe ser un número del 1 al 5.",
    comment_too_long="El comentario no puede superar los {max} caracteres.",
    thanks_title="¡Muchas gracias!",
    thanks_body="Hemos recibido su respuesta sobre el caso {number}. Nos ayuda a atenderle mejor.",
    already_answered_title="Encuesta ya respondida",
    already_answered_body="Ya recibimos su respuesta sobre el caso {number}. "
    "Gracias por su tiempo.",
    expired_title="Encuesta vencida",
    expired_body="El plazo para responder la encuesta del caso {number} ha terminado. "
    "Gracias de todos modos.",
    not_found_title="Encuesta no encontrada",
    not_found_body="Este enlace de encuesta no es válido. Compruebe que lo ha copiado completo.",
)

ENGLISH = PageText(
    language_name="English",
    other_languages="Other languages",
    title="Satisfaction survey",
    optional_note="Answering is optional and takes less than a minute.",
    question="How satisfied are you with how we handled your case {number}?",
    satisfaction_labels=(
        "Very dissatisfied",
        "Dissatisfied",
        "Neither satisfied nor dissatisfied",
        "Satisfied",
        "Very satisfied",
    ),
    comment_label="Anything else you would like to tell us? (optional)",
    comment_hint="Up to {max} characters.",
    submit="Send answer",
    error_summary="Please check the form:",
    field_names={"satisfaction": "Satisfaction", "comment": "Comment"},
    satisfaction_missing="Choose a rating from 1 to 5.",
    satisfaction_not_1_to_5="The rating must be a number from 1 to 5.",
    comment_too_long="The comment cannot be longer than {max} characters.",
    thanks_title="Thank you!",
    thanks_body="We have received your answer about case {number}. It helps us serve you better.",
    already_answered_title="Survey already answered",
    already_answered_body="We already have your answer about case {number}. "
    "Thank you for your time.",
    expired_title="Survey expired",
    expired_body="The time to answer the survey about case {number} is over. Thank you anyway.",
    not_found_title="Survey not found",
    not_found_body="This survey link is not valid. Please check that you copied all of it.",
)

PAGE_TEXTS: dict[Language, PageText] = {Language.ES: SPANISH, Language.EN: ENGLISH}


def page_language(requested: str | None) -> Language:
    """The page's language: the link's `?lang=` if the page exists in it, else Spanish. The
    browser's Accept-Language is not consulted: the link already names the language the customer
    chose for the case (survey_url leaves Spanish implicit)."""
    code = (requested or "").strip().lower()
    return Language(code) if code in PAGE_TEXTS else DEFAULT_LANGUAGE
