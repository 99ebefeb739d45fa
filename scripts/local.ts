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
console.log(`
OmniStream is running at ${url}
  API reference:  ${url}/docs
  Demo login:     ${DEMO.email} / ${DEMO.password}  (tenant slug "${DEMO.slug}")
  Try:            curl -s ${url}/api/working-hours/status?tenant=${DEMO.slug}
Press Ctrl-C to stop.
`);

