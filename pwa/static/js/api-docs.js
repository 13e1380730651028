// Interactive API docs from our own spec and our own copy of Swagger UI (no CDN).
window.ui = window.SwaggerUIBundle({
  url: '/api/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  persistAuthorization: true,
});
