/** The 5 attributes every scenario logs with 'user logged in', so that all contenders carry the same payload. */
export const loginAttributes = (i: number) => ({ user_id: 'usr_987654', request_id: i, route: '/api/login', latency_ms: 42, ok: true });
