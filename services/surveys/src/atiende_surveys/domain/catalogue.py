"""The stock questionnaires (version 1 of each): what surveys asks unless an administrator has
stored a newer version. Texts are ours: "es" is usted, "es-tu" is tú; English is the same in
both registers except where a "-tu" text says otherwise.

Every stock questionnaire asks the overall satisfaction (CSAT 1..5) once, so survey.answered
always carries the satisfaction its consumers read."""

from __future__ import annotations

from .questionnaires import (
    Dimension,
    Option,
    Question,
    Questionnaire,
    QuestionnaireKind,
    QuestionType,
    Role,
    Text,
)

CSAT_LABELS: tuple[Text, ...] = (
    {"es": "Muy insatisfactoria", "en": "Very dissatisfied"},
    {"es": "Insatisfactoria", "en": "Dissatisfied"},
    {"es": "Ni satisfactoria ni insatisfactoria", "en": "Neither satisfied nor dissatisfied"},
    {"es": "Satisfactoria", "en": "Satisfied"},
    {"es": "Muy satisfactoria", "en": "Very satisfied"},
)
AGREE_LOW: Text = {"es": "Totalmente en desacuerdo", "en": "Strongly disagree"}
AGREE_HIGH: Text = {"es": "Totalmente de acuerdo", "en": "Strongly agree"}


def _satisfaction(about: Text) -> Question:
    return Question(
        code="satisfaction",
        type=QuestionType.SCALE,
        text=about,
        minimum=1,
        maximum=5,
        labels=CSAT_LABELS,
        role=Role.CSAT,
    )


COMMENT = Question(
    code="comment",
    type=QuestionType.TEXT,
    required=False,
    text={
        "es": "¿Desea contarnos algo más? (opcional)",
        "es-tu": "¿Quieres contarnos algo más? (opcional)",
        "en": "Anything else you would like to tell us? (optional)",
    },
)

LOW_SCORE_REASON = Question(
    code="reason",
    type=QuestionType.CHOICE,
    required=False,
    text={
        "es": "Si nos ha valorado con 1 o 2, ¿qué fue lo peor? (opcional)",
        "es-tu": "Si nos has valorado con 1 o 2, ¿qué fue lo peor? (opcional)",
        "en": "If you rated us 1 or 2, what was the worst part? (optional)",
    },
    options=(
        Option("slow", {"es": "Tardamos demasiado", "en": "It took too long"}),
        Option("unresolved", {"es": "No se resolvió", "en": "It was not solved"}),
        Option("unfriendly", {"es": "El trato", "en": "How we treated you"}),
        Option("unclear", {"es": "No se explicó con claridad", "en": "It was not explained"}),
        Option("other", {"es": "Otra cosa", "en": "Something else"}),
    ),
)

CSAT = Questionnaire(
    id="csat",
    version=1,
    kind=QuestionnaireKind.CSAT,
    title={"es": "Encuesta de satisfacción", "en": "Satisfaction survey"},
    questions=(
        _satisfaction(
            {
                "es": "¿Cómo valora la forma en que atendimos su caso {number}?",
                "es-tu": "¿Cómo valoras la forma en que atendimos tu caso {number}?",
                "en": "How satisfied are you with how we handled your case {number}?",
            }
        ),
        LOW_SCORE_REASON,
        COMMENT,
    ),
)

NPS_QUESTION = Question(
    code="recommend",
    type=QuestionType.SCALE,
    minimum=0,
    maximum=10,
    role=Role.NPS,
    low_label={"es": "Nada probable", "en": "Not at all likely"},
    high_label={"es": "Muy probable", "en": "Extremely likely"},
    text={
        "es": "¿Qué probabilidad hay de que nos recomiende a un amigo o colega?",
        "es-tu": "¿Qué probabilidad hay de que nos recomiendes a un amigo o colega?",
        "en": "How likely are you to recommend us to a friend or colleague?",
    },
)

NPS = Questionnaire(
    id="nps",
    version=1,
    kind=QuestionnaireKind.NPS,
    title={
        "es": "Su opinión sobre nosotros",
        "es-tu": "Tu opinión sobre nosotros",
        "en": "Your opinion of us",
    },
    questions=(
        NPS_QUESTION,
        _satisfaction(
            {
                "es": "En general, ¿cómo valora nuestro servicio?",
                "es-tu": "En general, ¿cómo valoras nuestro servicio?",
                "en": "Overall, how satisfied are you with our service?",
            }
        ),
        COMMENT,
    ),
)

CES = Questionnaire(
    id="ces",
    version=1,
    kind=QuestionnaireKind.CES,
    title={"es": "¿Fue fácil?", "en": "Was it easy?"},
    questions=(
        Question(
            code="effort",
            type=QuestionType.SCALE,
            minimum=1,
            maximum=7,
            role=Role.CES,
            low_label=AGREE_LOW,
            high_label=AGREE_HIGH,
            text={
                "es": "¿Hasta qué punto está de acuerdo? «La empresa me facilitó resolver mi "
                "asunto» (caso {number})",
                "es-tu": "¿Hasta qué punto estás de acuerdo? «La empresa me facilitó resolver mi "
                "asunto» (caso {number})",
                "en": 'How much do you agree? "The company made it easy for me to handle my '
                'issue" (case {number})',
            },
        ),
        _satisfaction(
            {
                "es": "¿Cómo valora la atención recibida?",
                "es-tu": "¿Cómo valoras la atención recibida?",
                "en": "How satisfied are you with the service you received?",
            }
        ),
        COMMENT,
    ),
)


def _item(number: int, dimension: Dimension, text: Text, *, reversed: bool = False) -> Question:
    return Question(
        code=f"sq{number:02d}",
        type=QuestionType.SERVQUAL,
        text=text,
        minimum=1,
        maximum=7,
        dimension=dimension,
        reversed=reversed,
        low_label=AGREE_LOW,
        high_label=AGREE_HIGH,
    )


T, R, S, A, E = (
    Dimension.TANGIBLES,
    Dimension.RELIABILITY,
    Dimension.RESPONSIVENESS,
    Dimension.ASSURANCE,
    Dimension.EMPATHY,
)

SERVQUAL_ITEMS: tuple[Question, ...] = (
    _item(
        1,
        T,
        {
            "es": "Tiene equipos y herramientas de aspecto moderno.",
            "en": "Its equipment and tools look modern.",
        },
    ),
    _item(
        2,
        T,
        {
            "es": "Sus instalaciones (tiendas, web, oficinas) resultan atractivas.",
            "en": "Its premises (shops, website, offices) are appealing.",
        },
    ),
    _item(
        3,
        T,
        {
            "es": "Su personal tiene una presencia cuidada y profesional.",
            "en": "Its staff look neat and professional.",
        },
    ),
    _item(
        4,
        T,
        {
            "es": "Los documentos que entrega (facturas, correos, instrucciones) son "
            "claros y cuidados.",
            "en": "The documents it gives (invoices, emails, instructions) are clear "
            "and well presented.",
        },
    ),
    _item(
        5,
        R,
        {
            "es": "Cuando promete hacer algo en un plazo, lo cumple.",
            "en": "When it promises to do something by a certain time, it does.",
        },
    ),
    _item(
        6,
        R,
        {
            "es": "Cuando usted tiene un problema, muestra un interés sincero en resolverlo.",
            "es-tu": "Cuando tienes un problema, muestra un interés sincero en resolverlo.",
            "en": "When you have a problem, it shows a sincere interest in solving it.",
        },
    ),
    _item(
        7,
        R,
        {
            "es": "Hace bien el servicio a la primera.",
            "en": "It gets the service right the first time.",
        },
    ),
    _item(
        8,
        R,
        {
            "es": "Presta sus servicios en el momento en que dice que lo hará.",
            "en": "It delivers its services when it says it will.",
        },
    ),
    _item(
        9,
        R,
        {"es": "Mantiene sus registros sin errores.", "en": "It keeps its records free of errors."},
    ),
    _item(
        10,
        S,
        {
            "es": "Le dice con exactitud cuándo se hará cada cosa.",
            "es-tu": "Te dice con exactitud cuándo se hará cada cosa.",
            "en": "It tells you exactly when each thing will be done.",
        },
    ),
    _item(
        11,
        S,
        {
            "es": "Hay que esperar demasiado para que su personal le atienda.",
            "es-tu": "Hay que esperar demasiado para que su personal te atienda.",
            "en": "You have to wait too long for its staff to attend to you.",
        },
        reversed=True,
    ),
    _item(
        12,
        S,
        {
            "es": "Su personal siempre está dispuesto a ayudarle.",
            "es-tu": "Su personal siempre está dispuesto a ayudarte.",
            "en": "Its staff are always willing to help you.",
        },
    ),
    _item(
        13,
        S,
        {
            "es": "Su personal suele estar demasiado ocupado para atender sus peticiones.",
            "es-tu": "Su personal suele estar demasiado ocupado para atender tus peticiones.",
            "en": "Its staff are often too busy to respond to your requests.",
        },
        reversed=True,
    ),
    _item(
        14,
        A,
        {
            "es": "El comportamiento de su personal le transmite confianza.",
            "es-tu": "El comportamiento de su personal te transmite confianza.",
            "en": "The way its staff behave gives you confidence.",
        },
    ),
    _item(
        15,
        A,
        {
            "es": "Sus trámites con la empresa le dan seguridad.",
            "es-tu": "Tus trámites con la empresa te dan seguridad.",
            "en": "You feel safe in your dealings with it.",
        },
    ),
    _item(
        16,
        A,
        {
            "es": "Su personal es siempre amable con usted.",
            "es-tu": "Su personal es siempre amable contigo.",
            "en": "Its staff are always courteous to you.",
        },
    ),
    _item(
        17,
        A,
        {
            "es": "Su personal sabe responder a sus preguntas.",
            "es-tu": "Su personal sabe responder a tus preguntas.",
            "en": "Its staff know enough to answer your questions.",
        },
    ),
    _item(
        18,
        E,
        {
            "es": "Le presta una atención individual.",
            "es-tu": "Te presta una atención individual.",
            "en": "It gives you individual attention.",
        },
    ),
    _item(
        19,
        E,
        {
            "es": "Sus horarios de atención no le resultan convenientes.",
            "es-tu": "Sus horarios de atención no te resultan convenientes.",
            "en": "Its opening hours are not convenient for you.",
        },
        reversed=True,
    ),
    _item(
        20,
        E,
        {
            "es": "Su personal le atiende de forma personalizada.",
            "es-tu": "Su personal te atiende de forma personalizada.",
            "en": "Its staff give you personal attention.",
        },
    ),
    _item(
        21,
        E,
        {
            "es": "Se preocupa de verdad por lo que más le conviene.",
            "es-tu": "Se preocupa de verdad por lo que más te conviene.",
            "en": "It truly has your best interests at heart.",
        },
    ),
    _item(
        22,
        E,
        {
            "es": "Su personal no entiende sus necesidades concretas.",
            "es-tu": "Su personal no entiende tus necesidades concretas.",
            "en": "Its staff do not understand your specific needs.",
        },
        reversed=True,
    ),
)

SERVQUAL = Questionnaire(
    id="servqual",
    version=1,
    kind=QuestionnaireKind.SERVQUAL,
    title={"es": "La calidad de nuestro servicio", "en": "The quality of our service"},
    intro={
        "es": "Para cada frase indique, del 1 al 7, qué espera de una empresa excelente como "
        "la nuestra y qué ha encontrado en nosotros.",
        "es-tu": "Para cada frase indica, del 1 al 7, qué esperas de una empresa excelente "
        "como la nuestra y qué has encontrado en nosotros.",
        "en": "For each statement, rate from 1 to 7 what you expect of an excellent company "
        "like ours, and what you found with us.",
    },
    questions=(
        _satisfaction(
            {
                "es": "En general, ¿cómo valora nuestro servicio?",
                "es-tu": "En general, ¿cómo valoras nuestro servicio?",
                "en": "Overall, how satisfied are you with our service?",
            }
        ),
        *SERVQUAL_ITEMS,
        COMMENT,
    ),
)

POST_SALE = Questionnaire(
    id="post_sale",
    version=1,
    kind=QuestionnaireKind.POST_SALE,
    title={"es": "Su compra", "es-tu": "Tu compra", "en": "Your purchase"},
    questions=(
        _satisfaction(
            {
                "es": "¿Cómo valora su compra?",
                "es-tu": "¿Cómo valoras tu compra?",
                "en": "How satisfied are you with your purchase?",
            }
        ),
        Question(
            code="works_as_promised",
            type=QuestionType.YES_NO,
            text={
                "es": "¿El producto funciona como le prometimos?",
                "es-tu": "¿El producto funciona como te prometimos?",
                "en": "Does the product work as we promised?",
            },
        ),
        Question(
            code="buy_again",
            type=QuestionType.YES_NO,
            text={
                "es": "¿Volvería a comprarnos?",
                "es-tu": "¿Volverías a comprarnos?",
                "en": "Would you buy from us again?",
            },
        ),
        NPS_QUESTION,
        Question(
            code="technician_question",
            type=QuestionType.TEXT,
            required=False,
            text={
                "es": "¿Tiene alguna pregunta para nuestros técnicos? (opcional)",
                "es-tu": "¿Tienes alguna pregunta para nuestros técnicos? (opcional)",
                "en": "Any question for our technicians? (optional)",
            },
        ),
    ),
)

PERIODIC = Questionnaire(
    id="periodic",
    version=1,
    kind=QuestionnaireKind.PERIODIC,
    title={"es": "¿Qué tal lo estamos haciendo?", "en": "How are we doing?"},
    questions=(
        _satisfaction(
            {
                "es": "En los últimos meses, ¿cómo valora nuestro servicio?",
                "es-tu": "En los últimos meses, ¿cómo valoras nuestro servicio?",
                "en": "Over the last few months, how satisfied are you with our service?",
            }
        ),
        NPS_QUESTION,
        COMMENT,
    ),
)

STOCK: dict[str, Questionnaire] = {q.id: q for q in (CSAT, NPS, CES, SERVQUAL, POST_SALE, PERIODIC)}
