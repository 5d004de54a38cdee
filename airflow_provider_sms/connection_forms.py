"""Connection form of every gateway, declared once.

Read by ``get_provider_info`` (declarative ``conn-fields`` / ``ui-field-behaviour`` for Airflow 3.2+)
and by the hooks (the Python form methods Airflow 3.1 calls). Pure data: importing it is free.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["CONNECTION_FORMS", "ConnectionForm", "FormField"]


@dataclass(frozen=True)
class FormField:
    """One custom field, stored under its plain name in ``Connection.extra``."""

    name: str
    label: str
    type: str  # "string" | "integer" | "boolean" | "number"
    description: str = ""
    default: Any = None
    enum: tuple[str, ...] = ()
    secret: bool = False

    def conn_field(self, placeholder: str | None = None) -> dict[str, Any]:
        """This field as a declarative ``conn-fields`` entry."""
        entry: dict[str, Any] = {"label": self.label, "schema": self.schema()}
        text = self.help_text(placeholder)
        if text:
            entry["description"] = text
        return entry

    def help_text(self, placeholder: str | None = None) -> str:
        """The description, with the example value: neither Airflow 3.1 nor 3.3 shows placeholders of extras."""
        if placeholder and placeholder not in self.description:
            return f"{self.description} (e.g. {placeholder})" if self.description else f"e.g. {placeholder}"
        return self.description

    def schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": [self.type, "null"]}
        if self.default is not None:
            schema["default"] = self.default
        if self.enum:
            schema["enum"] = list(self.enum)
        if self.secret:
            schema["format"] = "password"
        return schema


# Airflow 3.3.2's Test button posts ``port: 0`` when the port field is hidden or empty, and its test
# endpoint then refuses ("Bad Request": the port differs from the stored connection's). The port
# field is therefore always shown, asking for the gateway's port, so a saved connection carries it.
_PORT_LABEL = "Port"
_PORT_PLACEHOLDER = "443"


@dataclass(frozen=True)
class ConnectionForm:
    """What the Airflow UI shows for one connection type.

    ``port`` is never hidden, whatever ``hidden_fields`` says (see ``_PORT_PLACEHOLDER``).
    """

    conn_type: str
    hook_class: str
    hook_name: str
    hidden_fields: tuple[str, ...]
    relabeling: dict[str, str]
    placeholders: dict[str, str]
    fields: tuple[FormField, ...] = field(default=())

    def provider_info(self) -> dict[str, Any]:
        """The ``connection-types`` item for ``get_provider_info``."""
        behaviour = self.ui_field_behaviour()
        return {
            "connection-type": self.conn_type,
            "hook-class-name": self.hook_class,
            "hook-name": self.hook_name,
            "ui-field-behaviour": {
                "hidden-fields": behaviour["hidden_fields"],
                "relabeling": behaviour["relabeling"],
                "placeholders": behaviour["placeholders"],
            },
            "conn-fields": {f.name: f.conn_field(self.placeholders.get(f.name)) for f in self.fields},
        }

    def ui_field_behaviour(self) -> dict[str, Any]:
        """The legacy (Airflow 3.1) ``get_ui_field_behaviour`` answer."""
        return {
            "hidden_fields": [name for name in self.hidden_fields if name != "port"],
            "relabeling": {"port": _PORT_LABEL, **self.relabeling},
            "placeholders": {"port": _PORT_PLACEHOLDER, **self.placeholders},
        }


def _common_fields(timeout: float = 30, why: str = "") -> tuple[FormField, ...]:
    """The extras every type has; ``timeout`` is the hook's ``default_timeout`` (the form pre-fills it,
    and a saved value overrides the hook's own default)."""
    return (
        FormField("default_region", "Default country", "string",
                  "ISO country code (e.g. GB) for numbers written without a country code"),
        FormField("number_check", "Number check", "string",
                  "'valid': against the country's numbering plan; 'possible': length only", "valid",
                  ("valid", "possible")),
        FormField("timeout", "Timeout (s)", "number", "Read timeout of one HTTP request" + why, timeout),
        *_OTHER_COMMON_FIELDS,
    )


_OTHER_COMMON_FIELDS = (
    FormField("max_recipients_per_request", "Recipients per request", "integer",
              "Chunk size for big sends (the gateway's limit applies)"),
    FormField("retries", "HTTP retries", "integer", "Retries of one HTTP call on transient errors", 3),
    FormField("retry_backoff", "Retry back-off (s)", "number", "First wait between retries; doubles each time", 0.5),
    FormField("deadline", "Deadline (s)", "number", "Longest a whole call may take, retries included", 120),
    FormField("max_answer_bytes", "Answer size cap (bytes)", "integer",
              "Largest answer to a send or status call, after decompression", 4194304),
    FormField("report_deadline", "Report deadline (s)", "number", "Longest a whole streamed report may take", 1800),
    FormField("max_line_bytes", "Report line cap (bytes)", "integer", "Longest line of a streamed report", 65536),
    FormField("callback_secret", "Callback secret", "string",
              "Shared secret in the callback URLs of delivery receipts and replies (at least 16 random characters; "
              "the command sms-callback-url prints the URLs)", secret=True),
    FormField("callback_allowed_ips", "Callback source addresses", "string",
              "Addresses or networks allowed to call the callback URLs, comma-separated (empty: any)"),
    FormField("receipts_conn_id", "Receipts store connection", "string",
              "Connection of the database receipts and replies are stored in", "sms_journal_default"),
    FormField("messages_per_second", "Messages per second", "number",
              "Client-side rate limit over every request in flight (Skycore: the account's throughput, "
              "E113 above it); empty: none"),
)


def _in_flight(default: int, guidance: str) -> FormField:
    """The ``max_in_flight`` field with the gateway's own default (the hook's ``default_max_in_flight``)."""
    return FormField("max_in_flight", "Requests in flight", "integer",
                     f"Requests of one send sent at once (1-64); the default follows the vendor: {guidance}", default)

CONNECTION_FORMS: dict[str, ConnectionForm] = {
    "bulksms": ConnectionForm(
        conn_type="bulksms",
        hook_class="airflow_provider_sms.hooks.bulksms.BulkSmsHook",
        hook_name="BulkSMS",
        hidden_fields=("schema", "port"),
        relabeling={"host": "Base URL", "login": "Username or token id", "password": "Password or token secret"},
        placeholders={
            "host": "https://api.bulksms.com (JSON) or https://bulksms.vsms.net (EAPI)",
            "login": "username",
            "api": "json",
            "default_region": "GB",
        },
        fields=(
            FormField("api", "API", "string",
                      "'json' (JSON API v1, the vendor's recommendation) or 'eapi' (legacy HTTP API)",
                      "json", ("json", "eapi")),
            *_common_fields(),
            _in_flight(1, "BulkSMS asks for one concurrent connection"),
            FormField("eapi_unicode_concat", "EAPI: allow long Unicode", "boolean",
                      "Let EAPI concatenate UCS-2 messages (the vendor documents it as unsupported)", False),
        ),
    ),
    "netmessenger": ConnectionForm(
        conn_type="netmessenger",
        hook_class="airflow_provider_sms.hooks.netmessenger.NetMessengerHook",
        hook_name="NetMessenger (FastSMS)",
        hidden_fields=("schema", "port", "login"),
        relabeling={"host": "Base URL", "password": "API token"},
        placeholders={
            "host": "https://my.fastsms.co.uk",
            "password": "token from the NetMessenger settings page",
            "time_zone": "Europe/London",
            "default_region": "GB",
        },
        fields=(
            *_common_fields(),
            _in_flight(2, "no guidance published, a conservative 2"),
            FormField("time_zone", "Account time zone", "string",
                      "Schedule dates and report windows are sent in this zone (vendor SDKs: Europe/London)",
                      "Europe/London"),
            FormField("cancel_action", "Cancel action name", "string",
                      "Action that cancels a scheduled message (not confirmed by the vendor)", "CancelMessage"),
            FormField("allow_unicode", "Allow non-GSM text", "boolean",
                      "The HTTP API documents no Unicode switch; allow it at your own risk", False),
            FormField("sent_lookup_reports", "Reports for the retry look-up", "string",
                      "Report types read to settle a send whose answer was lost (comma-separated)",
                      "Messages,Outbox"),
        ),
    ),
    "skycore": ConnectionForm(
        conn_type="skycore",
        hook_class="airflow_provider_sms.hooks.skycore.SkycoreHook",
        hook_name="Skycore",
        hidden_fields=("schema", "port", "login"),
        relabeling={"host": "API URL", "password": "API key"},
        placeholders={
            "host": "https://secure.skycore.com/API/wxml/1.3/",
            "password": "API key from the account's API settings",
            "short_code": "60856",
            "default_region": "US",
        },
        fields=(
            *_common_fields(),
            _in_flight(8, "no number published; paced by messages_per_second, and E113 holds every request"),
            FormField("short_code", "Short code (FROM)", "string",
                      "Default FROM code; a numeric sender overrides it, an alphanumeric one masks it"),
            FormField("operator_id", "Operator id", "string", "OPERATORID (carrier id) sent with SMS, if needed"),
            FormField("campaign_ref", "Campaign", "string",
                      "CAMPAIGNREF of sends; the campaign of subscriptions and subscriber-reference sends"),
            FormField("sender_mask", "Sender mask", "string", "Default FROM_MASK (alphanumeric, at most 11)"),
            FormField("mms_encoding_wait", "MMS encoding wait (s)", "number",
                      "How long an MMS send waits for saved audio/video to finish encoding (E626)", 600),
            FormField("statistics_action", "Statistics action", "string",
                      "Action name of the sending statistics report (the vendor's example says getSendingStatus)",
                      "getSendingStatistics"),
            FormField("time_zone", "Account time zone", "string",
                      "Zone of the statistics report dates", "America/New_York"),
        ),
    ),
    "bulletin_messenger": ConnectionForm(
        conn_type="bulletin_messenger",
        hook_class="airflow_provider_sms.hooks.bulletin.BulletinMessengerHook",
        hook_name="Bulletin Messenger",
        hidden_fields=("schema", "port"),
        relabeling={"host": "Base URL", "login": "User id", "password": "Password"},
        placeholders={
            "host": "https://www.bulletinmessenger.net",
            "login": "Messenger user id",
            "default_region": "NZ",
        },
        fields=(
            *_common_fields(45, " (45: the status and reply polls hold a call up to 30 s)"),
            _in_flight(2, "no guidance published, a conservative 2"),
            FormField("auth_in_form", "Credentials as form fields", "boolean",
                      "Send userId/password in the form instead of the Basic Authorization header", False),
            FormField("reply_callback_url", "Reply callback URL", "string",
                      "Per-message URL Messenger calls with replies (default: the organisation's setting)"),
            FormField("status_callback_url", "Status callback URL", "string",
                      "Per-message URL Messenger calls on status changes (default: the organisation's setting)"),
            FormField("reply_callback_param", "Reply callback parameter", "string",
                      "Name of the send parameter for the reply URL (not confirmed by the vendor)", "callbackUrl"),
            FormField("status_callback_param", "Status callback parameter", "string",
                      "Name of the send parameter for the status URL (not confirmed by the vendor)",
                      "statusCallbackUrl"),
        ),
    ),
}
