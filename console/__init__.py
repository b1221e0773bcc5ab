"""The web console: static files (HTML, ES modules, vendored ECharts and GraphiQL) served by the
hub at /console, plus the offline GraphiQL page for GET /graphql.

Everything the browser loads comes from this package (no CDN), and every piece of data goes
through the public POST /graphql with the user's token. The one extra route, the demo token
minting of ``serve --demo``, exists only when the hub runs with demo data.
"""

from __future__ import annotations

from console.routes import console_routes, graphiql_html

__all__ = ["console_routes", "graphiql_html"]
