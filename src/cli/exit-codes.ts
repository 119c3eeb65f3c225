/** 0 ok, 1 findings at or above --fail-on, 2 usage or input error, 70 internal error. */
export const EXIT = { ok: 0, findings: 1, input: 2, internal: 70 } as const;
