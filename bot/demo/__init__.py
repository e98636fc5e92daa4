"""`oprit demo`: the whole product on this machine, with a local Telegram and a web page of
phones; only the demo command imports it."""
