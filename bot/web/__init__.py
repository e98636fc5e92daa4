"""The officer's web dashboard (`oprit web`): aiohttp serving Jinja2 pages over the same
services, database and access rules as the chat."""
