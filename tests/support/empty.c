/* Keeps the support library non-empty before any helper exists. */
int mmk_testsupport_anchor;
