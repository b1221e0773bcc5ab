// GraphiQL on GET /graphql. The console's token (if you signed in there) is the default
// Authorization header; edit it in the Headers tab.
(function () {
  "use strict";
  var token = window.localStorage.getItem("c360.token");
  var purpose = window.localStorage.getItem("c360.purpose");
  var headers = {};
  if (token) headers.Authorization = "Bearer " + token;
  if (token && purpose) headers["X-Purpose"] = purpose;
  var fetcher = GraphiQL.createFetcher({ url: window.location.pathname });
  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: "# c360: the 360 view of one customer, as your token's role sees it\n" +
        '{\n  customer(id: "C000001") {\n    id name phone segment maskedFields\n' +
        "    churnRisk { score reasons }\n  }\n}\n",
      defaultEditorToolsVisibility: true,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false,
      defaultHeaders: JSON.stringify(
        Object.keys(headers).length ? headers : { Authorization: "Bearer <token: c360 token ...>" },
        null,
        2
      ),
    })
  );
})();
