"""Every word of the survey pages (not the questionnaires': those are data), per language and
register: usted (formal) and tú (informal)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from atiende_runtime.languages import DEFAULT_LANGUAGE, Language

from ...domain import AnswerProblem


@dataclass(frozen=True)
class PageText:
    """`{number}` is the case number, `{answer}` an answer's wording, `{max}` a length."""

    language_name: str  # how the language names itself, for the language switch
    other_languages: str
    optional_note: str
    opt_out_link: str
    confirm_title: str
    confirm_body: str
    confirm_button: str
    confirm_note: str
    expectation: str
    perception: str
    yes: str
    no: str
    comment_hint: str
    save: str
    submit: str
    saved_note: str
    error_summary: str
    missing: str
    out_of_range: str
    not_an_option: str
    too_long: str
    not_in_questionnaire: str
    thanks_title: str
    thanks_body: str
    already_answered_title: str
    already_answered_body: str
    expired_title: str
    expired_body: str
    not_found_title: str
    not_found_body: str
    optout_title: str
    optout_body: str
    optout_this_kind: str
    optout_all: str
    optout_done_title: str
    optout_done_kind: str
    optout_done_all: str

    field_names: dict[str, str]
    question_name: str

    def describe(
        self, problem: AnswerProblem, low: int = 1, high: int = 5, maximum: int = 1000
    ) -> str:
        message: str = getattr(self, problem.value)
        return message.format(min=low, max=maximum if problem is AnswerProblem.TOO_LONG else high)

    def name_of(self, field: str, position: int) -> str:
        """How the error summary names a field: its stock name, else "Question n"."""
        return self.field_names.get(field) or self.question_name.format(n=position)


SPANISH = PageText(
    language_name="Español",
    other_languages="Otros idiomas",
    optional_note="Responder es opcional: puede dejarlo cuando quiera.",
    opt_out_link="No deseo recibir encuestas",
    confirm_title="Confirme su respuesta",
    confirm_body="Ha elegido: {answer}.",
    confirm_button="Confirmar respuesta",
    confirm_note="No guardamos nada hasta que pulse el botón.",
    expectation="Lo que espera de una empresa excelente",
    perception="Lo que ha encontrado en nosotros",
    yes="Sí",
    no="No",
    comment_hint="Hasta {max} caracteres.",
    save="Guardar y seguir más tarde",
    submit="Enviar respuesta",
    saved_note="Hemos guardado sus respuestas. Puede volver a este enlace para terminar.",
    error_summary="Revise el formulario:",
    missing="Elija una respuesta.",
    out_of_range="La valoración debe ser un número del {min} al {max}.",
    not_an_option="Elija una de las respuestas ofrecidas.",
    too_long="El comentario no puede superar los {max} caracteres.",
    not_in_questionnaire="Esta pregunta no forma parte de la encuesta.",
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
    optout_title="Dejar de recibir encuestas",
    optout_body="Elija qué encuestas no desea recibir más. No necesita iniciar sesión.",
    optout_this_kind="No recibir más encuestas como esta",
    optout_all="No recibir ninguna encuesta",
    optout_done_title="Hecho",
    optout_done_kind="No volveremos a enviarle encuestas como esta.",
    optout_done_all="No volveremos a enviarle encuestas.",
    field_names={"satisfaction": "Valoración", "comment": "Comentario"},
    question_name="Pregunta {n}",
)

SPANISH_TU = replace(
    SPANISH,
    optional_note="Responder es opcional: puedes dejarlo cuando quieras.",
    opt_out_link="No quiero recibir encuestas",
    confirm_title="Confirma tu respuesta",
    confirm_body="Has elegido: {answer}.",
    confirm_note="No guardamos nada hasta que pulses el botón.",
    expectation="Lo que esperas de una empresa excelente",
    perception="Lo que has encontrado en nosotros",
    saved_note="Hemos guardado tus respuestas. Puedes volver a este enlace para terminar.",
    error_summary="Revisa el formulario:",
    out_of_range="La valoración debe ser un número del {min} al {max}.",
    not_an_option="Elige una de las respuestas ofrecidas.",
    thanks_body="Hemos recibido tu respuesta sobre el caso {number}. Nos ayuda a atenderte mejor.",
    already_answered_body="Ya recibimos tu respuesta sobre el caso {number}. "
    "Gracias por tu tiempo.",
    not_found_body="Este enlace de encuesta no es válido. Comprueba que lo has copiado completo.",
    optout_body="Elige qué encuestas no quieres recibir más. No necesitas iniciar sesión.",
    optout_done_kind="No volveremos a enviarte encuestas como esta.",
    optout_done_all="No volveremos a enviarte encuestas.",
)

ENGLISH = PageText(
    language_name="English",
    other_languages="Other languages",
    optional_note="Answering is optional: you may stop whenever you wish.",
    opt_out_link="I do not wish to receive surveys",
    confirm_title="Please confirm your answer",
    confirm_body="You chose: {answer}.",
    confirm_button="Confirm answer",
    confirm_note="Nothing is recorded until you press the button.",
    expectation="What you expect of an excellent company",
    perception="What you found with us",
    yes="Yes",
    no="No",
    comment_hint="Up to {max} characters.",
    save="Save and finish later",
    submit="Send answer",
    saved_note="Your answers are saved. Come back to this link to finish.",
    error_summary="Please check the form:",
    missing="Choose an answer.",
    out_of_range="The rating must be a number from {min} to {max}.",
    not_an_option="Choose one of the answers offered.",
    too_long="The comment cannot be longer than {max} characters.",
    not_in_questionnaire="This question is not part of the survey.",
    thanks_title="Thank you!",
    thanks_body="We have received your answer about case {number}. It helps us serve you better.",
    already_answered_title="Survey already answered",
    already_answered_body="We already have your answer about case {number}. "
    "Thank you for your time.",
    expired_title="Survey expired",
    expired_body="The time to answer the survey about case {number} is over. Thank you anyway.",
    not_found_title="Survey not found",
    not_found_body="This survey link is not valid. Please check that you copied all of it.",
    optout_title="Stop receiving surveys",
    optout_body="Choose which surveys you no longer wish to receive. No login is needed.",
    optout_this_kind="No more surveys like this one",
    optout_all="No surveys at all",
    optout_done_title="Done",
    optout_done_kind="We will not send you surveys like this one again.",
    optout_done_all="We will not send you any more surveys.",
    field_names={"satisfaction": "Satisfaction", "comment": "Comment"},
    question_name="Question {n}",
)

ENGLISH_TU = replace(
    ENGLISH,
    optional_note="Answering is optional: stop whenever you like.",
    opt_out_link="No more surveys, thanks",
    confirm_title="Confirm your answer",
    thanks_title="Thanks!",
)

PAGE_TEXTS: dict[Language, PageText] = {Language.ES: SPANISH, Language.EN: ENGLISH}
INFORMAL_TEXTS: dict[Language, PageText] = {Language.ES: SPANISH_TU, Language.EN: ENGLISH_TU}


def texts_for(language: Language, informal: bool) -> PageText:
    return (INFORMAL_TEXTS if informal else PAGE_TEXTS)[language]


def page_language(requested: str | None, default: str | None = None) -> Language:
    """The page's language: the link's `?lang=` if the page exists in it, else the invitation's
    language, else Spanish. Accept-Language is not consulted: the link already names the
    language the customer chose for the case."""
    for code in ((requested or "").strip().lower(), (default or "").strip().lower()):
        if code in PAGE_TEXTS:
            return Language(code)
    return DEFAULT_LANGUAGE
