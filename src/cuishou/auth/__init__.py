"""Auth (认证与权限): users, roles, password login with throttling, bearer tokens, scope."""
