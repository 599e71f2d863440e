"""Real-world shapes of mail that is no customer's words, written after samples from the servers
that send them: Exchange/Outlook out-of-office, Gmail vacation responder, Postfix and Exim
delivery-status reports (RFC 3464), a soft bounce (4.2.2 mailbox full), and a few other
auto-responders. Each function returns raw bytes; `answers` is the Message-ID of the email of
ours they answer or report on (notifications' `<delivery-id@atiende>`)."""

from __future__ import annotations

import uuid


def _crlf(text: str) -> bytes:
    return text.lstrip("\n").replace("\n", "\r\n").encode()


def exchange_out_of_office(answers: str, sender: str = "luis@contoso.example") -> bytes:
    return _crlf(f"""
Received: from AM6PR08MB.eurprd08.prod.outlook.com (2603:10a6:20b:c0::20)
From: Luis Gil <{sender}>
To: Atiende <atencion@atiende.example>
Subject: Respuesta automática: [AT-2026-000001] Hemos recibido su caso
Thread-Topic: [AT-2026-000001] Hemos recibido su caso
Date: Mon, 24 Nov 2026 10:01:12 +0000
Message-ID: <AM6PR08MB{uuid.uuid4().hex[:12]}@AM6PR08MB.eurprd08.prod.outlook.com>
In-Reply-To: {answers}
References: {answers}
Auto-Submitted: auto-generated
X-Auto-Response-Suppress: All
X-MS-Exchange-Inbox-Rules-Loop: {sender}
X-MS-Exchange-Generated-Message-Source: Mailbox Rules Agent
Content-Language: es-ES
Content-Type: text/plain; charset="iso-8859-1"
Content-Transfer-Encoding: quoted-printable
MIME-Version: 1.0

Estoy fuera de la oficina hasta el 1 de diciembre, sin acceso al correo.
Para asuntos urgentes, llame al 600 000 000.
""")


def exchange_oof_without_auto_submitted(answers: str) -> bytes:
    """Older Exchange servers: only the Microsoft headers say it."""
    return _crlf(f"""
From: Luis Gil <luis@contoso.example>
To: atencion@atiende.example
Subject: Automatic reply: Your case
Message-ID: <{uuid.uuid4()}@contoso.example>
In-Reply-To: {answers}
X-Auto-Response-Suppress: All
Content-Type: text/plain; charset=utf-8
MIME-Version: 1.0

I am out of the office until Monday.
""")


def gmail_vacation(answers: str, sender: str = "marta.lopez@gmail.example") -> bytes:
    return _crlf(f"""
MIME-Version: 1.0
Date: Mon, 24 Nov 2026 11:02:03 +0100
References: {answers}
In-Reply-To: {answers}
Message-ID: <CAFk{uuid.uuid4().hex}@mail.gmail.com>
Subject: Re: [AT-2026-000001] Hemos recibido su caso
From: Marta López <{sender}>
To: atencion@atiende.example
Auto-Submitted: auto-replied
X-Autoreply: yes
Precedence: bulk
Content-Type: multipart/alternative; boundary="000000000000abcd"

--000000000000abcd
Content-Type: text/plain; charset="UTF-8"

Estoy de vacaciones hasta el lunes. Contestaré a la vuelta.

--000000000000abcd
Content-Type: text/html; charset="UTF-8"

<div dir="ltr">Estoy de vacaciones hasta el lunes. Contestaré a la vuelta.</div>

--000000000000abcd--
""")


def x_autorespond(answers: str) -> bytes:
    return _crlf(f"""
From: soporte@proveedor.example
To: atencion@atiende.example
Subject: Hemos recibido su mensaje
Message-ID: <{uuid.uuid4()}@proveedor.example>
In-Reply-To: {answers}
X-Autorespond: Hemos recibido su mensaje
Content-Type: text/plain; charset=utf-8

Gracias por escribirnos; le contestaremos en 48 horas.
""")


def precedence_junk(answers: str) -> bytes:
    return _crlf(f"""
From: listas@boletin.example
To: atencion@atiende.example
Subject: Aviso
Message-ID: <{uuid.uuid4()}@boletin.example>
In-Reply-To: {answers}
Precedence: junk
Content-Type: text/plain; charset=utf-8

Aviso generado automáticamente.
""")


def postfix_dsn(original: str, recipient: str = "nadie@example.com") -> bytes:
    """Postfix's bounce: 5.1.1 user unknown, the original's headers returned."""
    return _crlf(f"""
Return-Path: <>
Received: by mx.atiende.example (Postfix) id 4X1234
Date: Mon, 24 Nov 2026 10:00:05 +0100 (CET)
From: MAILER-DAEMON@mx.atiende.example (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: avisos@atiende.example
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
	boundary="4X1234.1732438805/mx.atiende.example"
Content-Transfer-Encoding: 8bit
Message-Id: <20261124090005.4X1234@mx.atiende.example>

This is a MIME-encapsulated message.

--4X1234.1732438805/mx.atiende.example
Content-Description: Notification
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

This is the mail system at host mx.atiende.example.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

<{recipient}>: host mx.example.com[192.0.2.10] said: 550 5.1.1
    <{recipient}>: Recipient address rejected: User unknown (in reply to RCPT TO
    command)

--4X1234.1732438805/mx.atiende.example
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.atiende.example
X-Postfix-Queue-ID: 4X1234
X-Postfix-Sender: rfc822; avisos@atiende.example
Arrival-Date: Mon, 24 Nov 2026 10:00:04 +0100 (CET)

Final-Recipient: rfc822; {recipient}
Original-Recipient: rfc822;{recipient}
Action: failed
Status: 5.1.1
Remote-MTA: dns; mx.example.com
Diagnostic-Code: smtp; 550 5.1.1 <{recipient}>: Recipient address rejected: User
    unknown

--4X1234.1732438805/mx.atiende.example
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers
Content-Transfer-Encoding: 8bit

Return-Path: <avisos@atiende.example>
From: Atiende <avisos@atiende.example>
To: {recipient}
Subject: [AT-2026-000001] Hemos recibido su caso
Message-ID: {original}
Auto-Submitted: auto-generated

--4X1234.1732438805/mx.atiende.example--
""")


def exim_dsn(original: str, recipient: str = "ana@gone.example") -> bytes:
    """Exim's bounce: the whole original returned as message/rfc822."""
    return _crlf(f"""
Return-path: <>
From: Mail Delivery System <Mailer-Daemon@relay.atiende.example>
To: avisos@atiende.example
References: {original}
Content-Type: multipart/report; report-type=delivery-status; boundary=1732438805-eximdsn-1804289383
MIME-Version: 1.0
Subject: Mail delivery failed: returning message to sender
Message-Id: <E1tF7Ab-0001Xy-2Q@relay.atiende.example>
Date: Mon, 24 Nov 2026 10:00:05 +0000

--1732438805-eximdsn-1804289383
Content-type: text/plain; charset=us-ascii

This message was created automatically by mail delivery software.

A message that you sent could not be delivered to one or more of its
recipients. This is a permanent error. The following address(es) failed:

  {recipient}
    host mx.gone.example [198.51.100.7]
    SMTP error from remote mail server after RCPT TO:<{recipient}>:
    550 5.1.1 No such user here

--1732438805-eximdsn-1804289383
Content-type: message/delivery-status

Reporting-MTA: dns; relay.atiende.example

Action: failed
Final-Recipient: rfc822;{recipient}
Status: 5.0.0
Remote-MTA: dns; mx.gone.example
Diagnostic-Code: smtp; 550 5.1.1 No such user here

--1732438805-eximdsn-1804289383
Content-type: message/rfc822

Return-path: <avisos@atiende.example>
From: Atiende <avisos@atiende.example>
To: {recipient}
Subject: [AT-2026-000002] Su caso ha sido resuelto
Message-ID: {original}
Auto-Submitted: auto-generated
Content-Type: text/plain; charset=utf-8

Su caso ha sido resuelto.

--1732438805-eximdsn-1804289383--
""")


def mailbox_full_dsn(original: str, recipient: str = "luis@full.example") -> bytes:
    """A soft bounce: the mailbox is over quota (4.2.2), delivery will be retried."""
    return _crlf(f"""
From: Mail Delivery Subsystem <MAILER-DAEMON@mx.atiende.example>
To: avisos@atiende.example
Subject: Delivery Status Notification (Delay)
Message-ID: <{uuid.uuid4()}@mx.atiende.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="BOUNDARY"

--BOUNDARY
Content-Type: text/plain; charset=us-ascii

Delivery to {recipient} is delayed: the mailbox is full. We will keep trying.

--BOUNDARY
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.atiende.example

Final-Recipient: rfc822; {recipient}
Action: delayed
Status: 4.2.2
Diagnostic-Code: smtp; 452 4.2.2 Mailbox full
Will-Retry-Until: Mon, 1 Dec 2026 10:00:00 +0100

--BOUNDARY
Content-Type: text/rfc822-headers

From: Atiende <avisos@atiende.example>
To: {recipient}
Message-ID: {original}
Subject: [AT-2026-000001] Hemos recibido su caso

--BOUNDARY--
""")


def customer_reply(answers: str, sender: str = "Luis Gil <luis@contoso.example>") -> bytes:
    """A real person's reply: no automatic headers at all."""
    return _crlf(f"""
From: {sender}
To: atencion@atiende.example
Subject: Re: Hemos recibido su caso
Message-ID: <{uuid.uuid4()}@contoso.example>
In-Reply-To: {answers}
References: {answers}
Auto-Submitted: no
Content-Type: text/plain; charset=utf-8

Sigo sin noticias del pedido.
""")
