"""The shipped texts: every message in Spanish and English, formal (usted) and informal (tú).

They are the bottom of the fallback chain: an administrator's saved template for the same key
wins (see templating.select). English has no usted/tú; its informal texts are simply warmer.
Staff messages are written impersonally, so one text serves both registers. No "cariño", no
"corazón": friendly, never intimate.
"""

from __future__ import annotations

from dataclasses import dataclass

from atiende_contracts import Formality
from atiende_runtime.languages import Language

from .notices import Template


@dataclass(frozen=True)
class Text:
    subject: str
    text: str
    sms: str | None = None


_FOOT = {
    Language.ES: "\n--\nEste es un mensaje automático; no es necesario que lo responda.\n",
    Language.EN: "\n--\nThis is an automated message; there is no need to reply to it.\n",
}
_FOOT_TU = "\n--\nEste es un mensaje automático; no hace falta que lo respondas.\n"

F, INF = Formality.FORMAL, Formality.INFORMAL
ES, EN = Language.ES, Language.EN

_SIGN = {
    (ES, F): "Atentamente,\nEl equipo de atención al cliente\n",
    (ES, INF): "Un saludo,\nEl equipo de atención al cliente\n",
    (EN, F): "Kind regards,\nThe customer service team\n",
    (EN, INF): "Best wishes,\nThe customer service team\n",
}
_HELLO = {
    (ES, F): "Estimado/a {{ customer_name }}:",
    (ES, INF): "Hola, {{ customer_name }}:",
    (EN, F): "Dear {{ customer_name }},",
    (EN, INF): "Hi {{ customer_name }},",
}


def _customer(lang: Language, reg: Formality, subject: str, body: str, sms: str) -> Text:
    foot = _FOOT_TU if (lang, reg) == (ES, INF) else _FOOT[lang]
    text = f"{_HELLO[(lang, reg)]}\n\n{body.strip()}\n\n{_SIGN[(lang, reg)]}{foot}"
    return Text(subject=f"[{{{{ case_number }}}}] {subject}", text=text, sms=sms)


_CUSTOMER: dict[tuple[Template, Language, Formality], tuple[str, str, str]] = {
    # --- acknowledgement
    (Template.CASE_ACKNOWLEDGEMENT, ES, F): (
        "Hemos recibido su caso",
        "Hemos recibido su caso y le hemos asignado el número {{ case_number }}.\n\n"
        "Una persona de nuestro equipo lo revisará y se pondrá en contacto con usted. Si vuelve "
        "a escribirnos o a llamarnos por este asunto, indíquenos este número: tendremos a mano "
        "todo lo que ya nos ha contado y no tendrá que repetirlo.\n\nGracias por su confianza.",
        "Hemos recibido su caso {{ case_number }}. Le contactaremos pronto; cite este número si "
        "nos vuelve a escribir.",
    ),
    (Template.CASE_ACKNOWLEDGEMENT, ES, INF): (
        "Hemos recibido tu caso",
        "Hemos recibido tu caso y le hemos dado el número {{ case_number }}.\n\n"
        "Alguien de nuestro equipo lo revisará y se pondrá en contacto contigo. Si nos vuelves "
        "a escribir o a llamar por este asunto, dinos este número: tendremos a mano todo lo que "
        "ya nos has contado y no tendrás que repetirlo.\n\nGracias por tu confianza.",
        "Hemos recibido tu caso {{ case_number }}. Te contactaremos pronto; dinos este número si "
        "nos vuelves a escribir.",
    ),
    (Template.CASE_ACKNOWLEDGEMENT, EN, F): (
        "We have received your case",
        "We have received your case and given it the number {{ case_number }}.\n\n"
        "Someone from our team will look into it and get in touch with you. If you write or "
        "call us again about this, please quote this number: we will have everything you have "
        "told us to hand, so you will not need to repeat it.\n\nThank you for your trust.",
        "We have received your case {{ case_number }}. We will be in touch soon; please quote "
        "this number if you contact us again.",
    ),
    (Template.CASE_ACKNOWLEDGEMENT, EN, INF): (
        "We have received your case",
        "Thanks for getting in touch. Your case number is {{ case_number }}.\n\n"
        "One of us will look into it and get back to you. If you contact us again about this, "
        "just mention the number and we will pick up where we left off — no need to explain it "
        "all again.",
        "Got it! Your case is {{ case_number }}. We will be in touch soon.",
    ),
    # --- a commitment made
    (Template.COMMITMENT_MADE, ES, F): (
        "Nuestro compromiso con usted",
        "Para resolver su caso {{ case_number }} nos hemos comprometido a lo siguiente:\n\n"
        "{{ commitment }}\n\nLo haremos antes del {{ due }}. Si algo cambiara, se lo haremos "
        "saber antes de esa hora.",
        "Caso {{ case_number }}: {{ commitment }}. Lo haremos antes del {{ due }}.",
    ),
    (Template.COMMITMENT_MADE, ES, INF): (
        "Lo que vamos a hacer por ti",
        "Para resolver tu caso {{ case_number }} nos hemos comprometido a esto:\n\n"
        "{{ commitment }}\n\nLo haremos antes del {{ due }}. Si algo cambia, te avisaremos "
        "antes de esa hora.",
        "Caso {{ case_number }}: {{ commitment }}. Lo haremos antes del {{ due }}.",
    ),
    (Template.COMMITMENT_MADE, EN, F): (
        "Our commitment to you",
        "To resolve your case {{ case_number }} we have committed to the following:\n\n"
        "{{ commitment }}\n\nWe will do it by {{ due }}. Should anything change, we will let "
        "you know before then.",
        "Case {{ case_number }}: {{ commitment }}. We will do it by {{ due }}.",
    ),
    (Template.COMMITMENT_MADE, EN, INF): (
        "What we will do for you",
        "Here is what we have promised for your case {{ case_number }}:\n\n{{ commitment }}\n\n"
        "We will get it done by {{ due }}, and if anything changes you will hear from us first.",
        "Case {{ case_number }}: {{ commitment }} — by {{ due }}.",
    ),
    # --- waiting on the customer
    (Template.WAITING_ON_YOU, ES, F): (
        "Necesitamos su respuesta",
        "Para seguir con su caso {{ case_number }} necesitamos algo de usted."
        "{% if note %}\n\n{{ note }}{% endif %}\n\nBasta con que responda a este correo. "
        "Mientras tanto, el caso queda en espera y no corre en su contra.",
        "Caso {{ case_number }}: necesitamos su respuesta para continuar. Responda a nuestro "
        "correo, por favor.",
    ),
    (Template.WAITING_ON_YOU, ES, INF): (
        "Necesitamos tu respuesta",
        "Para seguir con tu caso {{ case_number }} necesitamos algo de ti."
        "{% if note %}\n\n{{ note }}{% endif %}\n\nBasta con que respondas a este correo. "
        "Mientras tanto, el caso queda en espera.",
        "Caso {{ case_number }}: necesitamos tu respuesta para seguir. Responde a nuestro "
        "correo, por favor.",
    ),
    (Template.WAITING_ON_YOU, EN, F): (
        "We need your reply",
        "To continue with your case {{ case_number }} we need something from you."
        "{% if note %}\n\n{{ note }}{% endif %}\n\nSimply reply to this email. In the "
        "meantime your case is on hold.",
        "Case {{ case_number }}: we need your reply to continue. Please answer our email.",
    ),
    (Template.WAITING_ON_YOU, EN, INF): (
        "We need a quick reply from you",
        "We need a little something from you to keep going with case {{ case_number }}."
        "{% if note %}\n\n{{ note }}{% endif %}\n\nJust reply to this email and we will take "
        "it from there.",
        "Case {{ case_number }}: we need a quick reply from you — just answer our email.",
    ),
    # --- resolved, and how to reopen
    (Template.CASE_RESOLVED, ES, F): (
        "Su caso está resuelto",
        "Hemos resuelto su caso {{ case_number }}.\n\n{{ resolution }}\n\nSi el problema "
        "persiste o la solución no le convence, responda a este correo citando el número "
        "{{ case_number }} y reabriremos el caso; no tendrá que empezar de nuevo.",
        "Caso {{ case_number }} resuelto. Si no es así, responda a nuestro correo y lo "
        "reabriremos.",
    ),
    (Template.CASE_RESOLVED, ES, INF): (
        "Tu caso está resuelto",
        "Hemos resuelto tu caso {{ case_number }}.\n\n{{ resolution }}\n\nSi el problema "
        "sigue ahí o la solución no te convence, responde a este correo con el número "
        "{{ case_number }} y reabriremos el caso; no tendrás que empezar de cero.",
        "Caso {{ case_number }} resuelto. Si no es así, responde a nuestro correo y lo reabrimos.",
    ),
    (Template.CASE_RESOLVED, EN, F): (
        "Your case has been resolved",
        "We have resolved your case {{ case_number }}.\n\n{{ resolution }}\n\nIf the problem "
        "persists or you are not satisfied with the solution, reply to this email quoting "
        "{{ case_number }} and we will reopen the case; you will not have to start again.",
        "Case {{ case_number }} resolved. If it is not, reply to our email and we will reopen it.",
    ),
    (Template.CASE_RESOLVED, EN, INF): (
        "All sorted: your case is resolved",
        "Good news: case {{ case_number }} is resolved.\n\n{{ resolution }}\n\nIf anything is "
        "still not right, just reply to this email and we will reopen it — no need to start "
        "over.",
        "Case {{ case_number }} is resolved. Not quite? Reply to our email and we will reopen it.",
    ),
    # --- compensation granted
    (Template.COMPENSATION_GRANTED, ES, F): (
        "Una compensación por las molestias",
        "Lamentamos las molestias que le ha causado lo ocurrido con su caso {{ case_number }}. "
        "Como compensación le ofrecemos:\n\n{{ compensation }}\n\nNo tiene que hacer nada más "
        "para recibirla.",
        "Caso {{ case_number }}: como compensación, {{ compensation }}.",
    ),
    (Template.COMPENSATION_GRANTED, ES, INF): (
        "Una compensación por las molestias",
        "Sentimos las molestias que te ha causado lo ocurrido con tu caso {{ case_number }}. "
        "Como compensación te ofrecemos:\n\n{{ compensation }}\n\nNo tienes que hacer nada más "
        "para recibirla.",
        "Caso {{ case_number }}: como compensación, {{ compensation }}.",
    ),
    (Template.COMPENSATION_GRANTED, EN, F): (
        "Compensation for the inconvenience",
        "We are sorry for the inconvenience caused in your case {{ case_number }}. As "
        "compensation we are offering you:\n\n{{ compensation }}\n\nThere is nothing more you "
        "need to do to receive it.",
        "Case {{ case_number }}: as compensation, {{ compensation }}.",
    ),
    (Template.COMPENSATION_GRANTED, EN, INF): (
        "Something to make up for it",
        "We are sorry about the trouble with case {{ case_number }}. To make up for it, here is "
        "what we are giving you:\n\n{{ compensation }}\n\nNothing else to do on your side.",
        "Case {{ case_number }}: to make up for it, {{ compensation }}.",
    ),
    # --- survey invitation
    (Template.SURVEY_INVITATION, ES, F): (
        "¿Cómo le atendimos?",
        "Su caso {{ case_number }} se ha resuelto. Nos gustaría saber cómo le hemos atendido; "
        "contestar le llevará menos de un minuto:\n\n{{ survey_url }}\n\nResponder es "
        "totalmente opcional: si prefiere no hacerlo, simplemente ignore este mensaje. El "
        "enlace estará abierto hasta el {{ expires_on }}.\n\nSi su problema no se ha "
        "solucionado, contáctenos citando {{ case_number }} y lo retomaremos.",
        "¿Cómo le atendimos en el caso {{ case_number }}? Opcional: {{ survey_url }}",
    ),
    (Template.SURVEY_INVITATION, ES, INF): (
        "¿Qué tal te atendimos?",
        "Tu caso {{ case_number }} se ha resuelto. Nos gustaría saber qué tal te hemos "
        "atendido; contestar te llevará menos de un minuto:\n\n{{ survey_url }}\n\nResponder "
        "es totalmente opcional: si prefieres no hacerlo, ignora este mensaje. El enlace estará "
        "abierto hasta el {{ expires_on }}.\n\nSi tu problema no se ha solucionado, escríbenos "
        "con el número {{ case_number }} y lo retomamos.",
        "¿Qué tal te atendimos en el caso {{ case_number }}? Opcional: {{ survey_url }}",
    ),
    (Template.SURVEY_INVITATION, EN, F): (
        "How did we do?",
        "Your case {{ case_number }} has been resolved. We would like to know how we did; "
        "answering takes less than a minute:\n\n{{ survey_url }}\n\nAnswering is entirely "
        "optional: if you would rather not, simply ignore this message. The link is open until "
        "{{ expires_on }}.\n\nIf your problem has not been solved, contact us quoting "
        "{{ case_number }} and we will take it up again.\n\nThank you for helping us improve.",
        "How did we do with case {{ case_number }}? Optional: {{ survey_url }}",
    ),
    (Template.SURVEY_INVITATION, EN, INF): (
        "How did we do?",
        "Case {{ case_number }} is resolved — how did we do? It takes less than a minute:\n\n"
        "{{ survey_url }}\n\nIt is completely optional; if you would rather not, just ignore "
        "this. The link works until {{ expires_on }}.",
        "How did we do with case {{ case_number }}? Optional: {{ survey_url }}",
    ),
    # --- survey reminder
    (Template.SURVEY_REMINDER, ES, F): (
        "Recordatorio: ¿cómo le atendimos?",
        "Hace unos días le preguntamos cómo le atendimos en su caso {{ case_number }}. Si aún "
        "quiere contárnoslo, el enlace sigue abierto hasta el {{ expires_on }}:\n\n"
        "{{ survey_url }}\n\nEs opcional, y este es el único recordatorio que le enviaremos.",
        "Recordatorio opcional, caso {{ case_number }}: {{ survey_url }}",
    ),
    (Template.SURVEY_REMINDER, ES, INF): (
        "Recordatorio: ¿qué tal te atendimos?",
        "Hace unos días te preguntamos qué tal te atendimos en tu caso {{ case_number }}. Si "
        "aún quieres contárnoslo, el enlace sigue abierto hasta el {{ expires_on }}:\n\n"
        "{{ survey_url }}\n\nEs opcional, y es el único recordatorio que te enviaremos.",
        "Recordatorio opcional, caso {{ case_number }}: {{ survey_url }}",
    ),
    (Template.SURVEY_REMINDER, EN, F): (
        "Reminder: how did we do?",
        "A few days ago we asked how we did with your case {{ case_number }}. If you would "
        "still like to tell us, the link is open until {{ expires_on }}:\n\n{{ survey_url }}"
        "\n\nIt is optional, and this is the only reminder we will send.",
        "Optional reminder, case {{ case_number }}: {{ survey_url }}",
    ),
    (Template.SURVEY_REMINDER, EN, INF): (
        "Reminder: how did we do?",
        "Still happy to hear how we did with case {{ case_number }}. The link works until "
        "{{ expires_on }}:\n\n{{ survey_url }}\n\nOptional, and this is our only reminder.",
        "Optional reminder, case {{ case_number }}: {{ survey_url }}",
    ),
    # --- a problem (shared cause) resolved
    (Template.PROBLEM_RESOLVED, ES, F): (
        "Hemos corregido la causa de su incidencia",
        "Le escribimos por su caso {{ case_number }}. La causa de fondo que lo provocó "
        "({{ problem }}) ya está corregida, para usted y para el resto de clientes "
        "afectados.\n\nSi vuelve a notar el problema, responda a este correo y lo revisaremos "
        "de inmediato.",
        "Caso {{ case_number }}: hemos corregido la causa ({{ problem }}).",
    ),
    (Template.PROBLEM_RESOLVED, ES, INF): (
        "Hemos corregido la causa de tu incidencia",
        "Te escribimos por tu caso {{ case_number }}. La causa de fondo ({{ problem }}) ya "
        "está corregida, para ti y para el resto de clientes afectados.\n\nSi vuelves a notar "
        "el problema, responde a este correo y lo revisamos enseguida.",
        "Caso {{ case_number }}: hemos corregido la causa ({{ problem }}).",
    ),
    (Template.PROBLEM_RESOLVED, EN, F): (
        "We have fixed the cause of your issue",
        "We are writing about your case {{ case_number }}. Its underlying cause "
        "({{ problem }}) has now been fixed, for you and every other customer affected.\n\n"
        "If you notice the problem again, reply to this email and we will look into it at once.",
        "Case {{ case_number }}: the cause ({{ problem }}) is fixed.",
    ),
    (Template.PROBLEM_RESOLVED, EN, INF): (
        "The cause of your issue is fixed",
        "Quick update on case {{ case_number }}: the root cause ({{ problem }}) is fixed, for "
        "you and everyone else it affected.\n\nIf it ever comes back, just reply to this email.",
        "Case {{ case_number }}: the cause ({{ problem }}) is fixed.",
    ),
}

_STAFF: dict[tuple[Template, Language], tuple[str, str]] = {
    (Template.STAFF_CASE_ASSIGNED, ES): (
        "Caso asignado: {{ case_number }}",
        "Se ha asignado el caso {{ case_number }} (equipo {{ team }}, prioridad {{ priority }})."
        "{% if reason %}\nMotivo: {{ reason }}{% endif %}",
    ),
    (Template.STAFF_CASE_ASSIGNED, EN): (
        "Case assigned: {{ case_number }}",
        "Case {{ case_number }} has been assigned (team {{ team }}, priority {{ priority }})."
        "{% if reason %}\nReason: {{ reason }}{% endif %}",
    ),
    (Template.STAFF_SLA_WARNING, ES): (
        "Aviso de plazo: {{ case_number }}",
        "El plazo de {{ target }} del caso {{ case_number }} está cerca ({{ threshold }}). "
        "Vence el {{ due }}.",
    ),
    (Template.STAFF_SLA_WARNING, EN): (
        "SLA warning: {{ case_number }}",
        "The {{ target }} target of case {{ case_number }} is close ({{ threshold }}). It is due "
        "{{ due }}.",
    ),
    (Template.STAFF_SLA_BREACHED, ES): (
        "Plazo incumplido: {{ case_number }}",
        "Se ha superado el plazo de {{ target }} del caso {{ case_number }} (vencía el {{ due }})."
        " Conviene actuar ya y avisar al cliente.",
    ),
    (Template.STAFF_SLA_BREACHED, EN): (
        "SLA breached: {{ case_number }}",
        "The {{ target }} target of case {{ case_number }} has been missed (it was due "
        "{{ due }}). Please act now and keep the customer informed.",
    ),
    (Template.STAFF_COMMITMENT_DUE_SOON, ES): (
        "Compromiso a punto de vencer: {{ case_number }}",
        "El compromiso con el cliente del caso {{ case_number }} vence el {{ due }}:\n\n"
        "{{ commitment }}",
    ),
    (Template.STAFF_COMMITMENT_DUE_SOON, EN): (
        "Commitment due soon: {{ case_number }}",
        "The promise made to the customer in case {{ case_number }} is due {{ due }}:\n\n"
        "{{ commitment }}",
    ),
    (Template.STAFF_COMMITMENT_MISSED, ES): (
        "Compromiso incumplido: {{ case_number }}",
        "No se ha cumplido a tiempo el compromiso del caso {{ case_number }} (vencía el "
        "{{ due }}). El cliente espera noticias: contacte con él cuanto antes.",
    ),
    (Template.STAFF_COMMITMENT_MISSED, EN): (
        "Commitment missed: {{ case_number }}",
        "The promise in case {{ case_number }} was not kept in time (it was due {{ due }}). The "
        "customer is waiting: get in touch with them as soon as possible.",
    ),
    (Template.STAFF_ESCALATED, ES): (
        "Caso escalado: {{ case_number }}",
        "El caso {{ case_number }} se ha escalado al nivel {{ level }} ({{ reason }}) y ahora "
        "es responsabilidad suya.{% if note %}\nNota: {{ note }}{% endif %}",
    ),
    (Template.STAFF_ESCALATED, EN): (
        "Case escalated to you: {{ case_number }}",
        "Case {{ case_number }} has been escalated to level {{ level }} ({{ reason }}) and is "
        "now yours.{% if note %}\nNote: {{ note }}{% endif %}",
    ),
    (Template.STAFF_APPROVAL_REQUESTED, ES): (
        "Aprobación pendiente: {{ case_number }}",
        "{{ requested_by }} pide su aprobación en el caso {{ case_number }}:\n\n{{ what }}",
    ),
    (Template.STAFF_APPROVAL_REQUESTED, EN): (
        "Approval requested: {{ case_number }}",
        "{{ requested_by }} asks for your approval in case {{ case_number }}:\n\n{{ what }}",
    ),
    (Template.STAFF_WEBHOOK_DISABLED, ES): (
        "Webhook desactivado: {{ url }}",
        "Se ha desactivado el webhook {{ url }} (id {{ endpoint_id }}): "
        "{% if reason == 'gone' %}respondió 410 Gone, es decir, ya no existe."
        "{% else %}lleva días fallando en cada reintento.{% endif %}"
        "{% if last_error %}\nÚltimo error: {{ last_error }}{% endif %}\n"
        "No recibirá más eventos hasta que alguien lo reactive; después se pueden reenviar "
        "los que se perdió.",
    ),
    (Template.STAFF_WEBHOOK_DISABLED, EN): (
        "Webhook disabled: {{ url }}",
        "The webhook {{ url }} (id {{ endpoint_id }}) has been disabled: "
        "{% if reason == 'gone' %}it answered 410 Gone, so it no longer exists."
        "{% else %}it has been failing every retry for days.{% endif %}"
        "{% if last_error %}\nLast error: {{ last_error }}{% endif %}\n"
        "It will get no more events until someone enables it again; the ones it missed can then "
        "be replayed.",
    ),
}


def _build() -> dict[tuple[Template, Language, Formality], Text]:
    texts: dict[tuple[Template, Language, Formality], Text] = {}
    for (template, lang, reg), (subject, body, sms) in _CUSTOMER.items():
        texts[(template, lang, reg)] = _customer(lang, reg, subject, body, sms)
    for (template, lang), (subject, body) in _STAFF.items():
        greeting = (
            "Hola{% if agent_name %}, {{ agent_name }}{% endif %}:"
            if lang is ES
            else ("Hello{% if agent_name %} {{ agent_name }}{% endif %},")
        )
        text = f"{greeting}\n\n{body}\n{_FOOT[lang]}"
        sms = body.replace("\n", " ")
        for reg in Formality:
            texts[(template, lang, reg)] = Text(subject=subject, text=text, sms=sms)
    return texts


BUILTIN: dict[tuple[Template, Language, Formality], Text] = _build()
"""Every (message, language, register) ships a text."""
