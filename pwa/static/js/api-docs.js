// Interactive API docs from our own spec and our own copy of Swagger UI (no CDN).
window.ui = window.SwaggerUIBundle({
  url: '/api/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  // Never keep the token in localStorage: it would outlive the tab on a shared computer.
  persistAuthorization: false,
});
