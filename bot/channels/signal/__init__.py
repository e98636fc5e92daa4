"""Signal as a participant channel, through a signal-cli daemon in HTTP mode.

Officers stay on Telegram; participants who chose Signal (`oprit invite create --channel
signal`) talk to the bot's Signal number. The daemon runs next to Oprit:
`signal-cli -a +31… daemon --http 127.0.0.1:8080 --receive-mode=on-connection`
(docs/deploy.md). `OPRIT_SIGNAL_URL` points at it; nothing here runs when it is unset.

What we rely on, and where it is written (signal-cli's man pages signal-cli-jsonrpc(5)
and signal-cli(1), checked against its HttpServerHandler and JSON classes):

- Three endpoints (jsonrpc(5), "With --http"): `POST /api/v1/rpc` takes one JSON-RPC 2.0
  request (`Content-Type: application/json`, else 415); `GET /api/v1/events` is a
  Server-Sent Events stream of incoming messages; `GET /api/v1/check` answers 200.
- Requests (jsonrpc(5), "Commands"): the method is the cli command's name, parameters
  are its long options in camelCase, a multi-value option takes a JSON array.
  In single-account mode (`-a ACCOUNT daemon`) no `account` parameter; in multi-account
  mode every request for one account carries `"account": "+31…"` (jsonrpc(5),
  "Multi-account mode"). We tell the modes apart with `listAccounts`: a multi-account
  command that a single-account daemon answers with -32601 "Method not implemented".
  - `send` {"recipient": ["+31…"], "message": "…", "quoteTimestamp": N,
    "quoteAuthor": "+31…", "attachments": ["data:<mime>;filename=<name>;base64,<data>"]}
    → {"timestamp": N, "results": [{"recipientAddress": {"uuid", "number"},
    "type": "SUCCESS" | "NETWORK_FAILURE" | "UNREGISTERED_FAILURE" | "IDENTITY_FAILURE"
    | "RATE_LIMIT_FAILURE" | "INVALID_PRE_KEY_FAILURE", "retryAfterSeconds"?: N}]}
    (signal-cli(1) "send"; jsonrpc(5) example `{"result":{"timestamp":999}}`).
    The timestamp is the message's id in Signal (receipts, quotes and edits name it).
  - `sendReceipt` {"recipient": "+31…", "targetTimestamp": [N, …], "type": "read"}
    (signal-cli(1) "sendReceipt").
  - `sendReaction` {"recipient": ["+31…"], "emoji": "👍", "targetAuthor": "+31…",
    "targetTimestamp": N} (signal-cli(1) "sendReaction").
  - `listIdentities` {"number": "+31…"} → [{"number", "uuid", "fingerprint",
    "safetyNumber", "trustLevel", …}]; `trust` {"recipient": "+31…",
    "trustAllKnownKeys": true} or {"verifiedSafetyNumber": "…"} (signal-cli(1)).
  - A send that reached nobody is an error (signal-cli(1) "Exit codes" as JSON-RPC error
    codes): -1 user error (an unregistered recipient), -3 server or IO error, -4
    untrusted identity, -5 rate limited; `error.data.response` then holds the result
    above with one entry per recipient. -32600/-32601/-32602 are JSON-RPC's own.
- Events (jsonrpc(5) "Basic usage"; HttpServerHandler): each SSE event is
  `event:receive` with `data:` one line of JSON, `{"account": "+31…", "envelope": {…}}`;
  a `:` line is a keep-alive every 15 s. (jsonrpc(5) shows the same object as the params
  of a JSON-RPC notification `{"method": "receive", "params": {…}}` on the other
  transports; both forms are read.) An envelope: {"source", "sourceNumber",
  "sourceUuid", "sourceName", "sourceDevice", "timestamp", "serverReceivedTimestamp",
  "dataMessage"?: {"timestamp", "message", "attachments"?: [{"contentType", "filename",
  "id", "size", "caption"}], "quote"?, "reaction"?: {"emoji", "targetAuthor",
  "targetSentTimestamp", "isRemove"}, "groupInfo"?}, "editMessage"?:
  {"targetSentTimestamp", "dataMessage"}, "receiptMessage"?: {"when", "isDelivery",
  "isRead", "isViewed", "timestamps": [N, …]}, "typingMessage"?, "syncMessage"?}.

Guarantees (the same as Telegram's): an incoming message is stored in the inbox before
its read receipt goes back (bot.channels.signal.receive); the envelope's sender and
timestamp make its update id, so a redelivery is stored once; sends go through the
outbox at `OPRIT_SIGNAL_RATE` messages a second for the whole account, back off while
the daemon is away, and an unregistered number or an untrusted identity counts as a
block (the participant unreachable, the officer alerted). Receipts are recorded on the
outbox row. With `--receive-mode=on-connection` the daemon fetches messages from
Signal's servers only while Oprit listens, so they wait there while Oprit is down; an
event that reached Oprit but was not yet stored when Oprit was killed is lost, because
signal-cli has already confirmed it to Signal's servers (docs/deploy.md).
"""
