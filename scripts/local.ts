/**
 * Runs the server for local use and makes sure a demo organization exists, printing its login.
 * The demo is created through the public register endpoint, exactly as a user would.
 */
import { boot } from '../src/main.js';

const DEMO = {
  organization_name: 'Toko Demo',
  slug: 'demo',
  name: 'Demo Admin',
  email: 'admin@demo.local',
  password: 'omnistream-demo',
};

const server = await boot();
const url = `http://localhost:${server.port}`;

const res = await fetch(`${server.url}/api/auth/register`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(DEMO),
});
if (res.status !== 201 && res.status !== 409) {
  console.error(`Could not create the demo tenant: ${res.status} ${await res.text()}`);
}

// The demo site page (/demo) embeds the website chat widget: enable it for this server's own origins.
const login = await fetch(`${server.url}/api/auth/login`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ email: DEMO.email, password: DEMO.password, tenant: DEMO.slug }),
});
if (login.ok) {
  const { token } = (await login.json()) as { token: string };
  const webchat = await fetch(`${server.url}/api/webchat/settings`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ enabled: true, allowed_origins: [url, `http://127.0.0.1:${server.port}`], welcome_text: 'Halo! Ada yang bisa kami bantu?' }),
  });
  if (!webchat.ok) console.error(`Could not enable the demo chat widget: ${webchat.status} ${await webchat.text()}`);
} else {
  console.error(`Could not sign in as the demo admin: ${login.status} ${await login.text()}`);
}
console.log(`
OmniStream is running at ${url}
  Agent console:  ${url}/app  (sign in with the demo login)
  API reference:  ${url}/docs
  Demo login:     ${DEMO.email} / ${DEMO.password}  (tenant slug "${DEMO.slug}")
  Chat widget:    ${url}/demo  (a demo site page; visitors' messages appear in the demo inbox)
  Try:            curl -s ${url}/api/working-hours/status?tenant=${DEMO.slug}
Press Ctrl-C to stop.
`);

