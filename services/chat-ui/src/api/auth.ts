// The seam for production authentication (the JWT work of a later issue).
// Today the embedded server resolves every request to RAGOPS_TENANT, so there is no token.
// When auth lands, return the bearer token here (and refresh it if needed): every API
// call — typed client, SSE stream and XHR uploads — asks this function for its header.

export async function getAccessToken(): Promise<string | null> {
  return null;
}

export async function authHeaders(): Promise<Record<string, string>> {
  const token = await getAccessToken();
  return token ? { Authorization: `Bearer ${token}` } : {};
}
