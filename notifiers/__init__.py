"""Render and deliver notification mails. No database: ``workflow/`` owns the outbox.

``message`` (the Message value and MIME building), ``render`` (jinja2 templates),
``email`` (aiosmtplib delivery), ``sinks`` (console and .eml files for dry runs).
Nothing here imports ``workflow`` or ``cli``; failures are ValueError subclasses
(RenderError, MessageError, SettingsError) or DeliveryResult values.
"""
