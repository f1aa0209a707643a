"""HTTP routes, one module per group of endpoints; ``api.app.routers`` lists them."""
