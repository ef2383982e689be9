"""Agency use cases, one module each: placing cases (``placing``), recalling them
(``recall``), commission statements (``commission``) and the league table (``league``).
Fetch → decide (``agency.rules``) → act; nothing here commits."""
