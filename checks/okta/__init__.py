"""The Okta check catalog: users (factors, admin roles, inactivity) and the org's sign-on and password
policies, pure functions over one ``okta.user`` or ``okta.org`` resource (collectors/okta)."""
