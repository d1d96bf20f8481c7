/* ldap.c - OpenLDAP's entry points for the static build's libpq only.
 *
 * libpq looks a connection service up in LDAP only when pg_service.conf
 * names an ldap:// URL, and Debian ships no static libldap. ldap_init
 * failing is the first thing that lookup checks: libpq then reports
 * "could not create LDAP structure" for that service and nothing else
 * is reached. Linked into bin/contend-static only (Makefile, STATIC=1
 * with PostgreSQL). */
#include <stddef.h>

struct ldap;
struct ldapmsg;
struct berval;
struct timeval;

#define LDAP_SERVER_DOWN 0x51

struct ldap *ldap_init(const char *host, int port);
struct ldap *ldap_init(const char *host, int port)
{
	(void)host, (void)port;
	return NULL;
}

int ldap_set_option(struct ldap *ld, int option, const void *value);
int ldap_set_option(struct ldap *ld, int option, const void *value)
{
	(void)ld, (void)option, (void)value;
	return -1;
}

int ldap_simple_bind(struct ldap *ld, const char *who, const char *pw);
int ldap_simple_bind(struct ldap *ld, const char *who, const char *pw)
{
	(void)ld, (void)who, (void)pw;
	return -1;
}

int ldap_result(struct ldap *ld, int msgid, int all, struct timeval *tv,
		struct ldapmsg **res);
int ldap_result(struct ldap *ld, int msgid, int all, struct timeval *tv,
		struct ldapmsg **res)
{
	(void)ld, (void)msgid, (void)all, (void)tv;
	if (res)
		*res = NULL;
	return -1;
}

int ldap_search_st(struct ldap *ld, const char *base, int scope,
		   const char *filter, char **attrs, int attrsonly,
		   struct timeval *tv, struct ldapmsg **res);
int ldap_search_st(struct ldap *ld, const char *base, int scope,
		   const char *filter, char **attrs, int attrsonly,
		   struct timeval *tv, struct ldapmsg **res)
{
	(void)ld, (void)base, (void)scope, (void)filter, (void)attrs;
	(void)attrsonly, (void)tv;
	if (res)
		*res = NULL;
	return LDAP_SERVER_DOWN;
}

int ldap_count_entries(struct ldap *ld, struct ldapmsg *res);
int ldap_count_entries(struct ldap *ld, struct ldapmsg *res)
{
	(void)ld, (void)res;
	return -1;
}

struct ldapmsg *ldap_first_entry(struct ldap *ld, struct ldapmsg *res);
struct ldapmsg *ldap_first_entry(struct ldap *ld, struct ldapmsg *res)
{
	(void)ld, (void)res;
	return NULL;
}

struct berval **ldap_get_values_len(struct ldap *ld, struct ldapmsg *e,
				    const char *attr);
struct berval **ldap_get_values_len(struct ldap *ld, struct ldapmsg *e,
				    const char *attr)
{
	(void)ld, (void)e, (void)attr;
	return NULL;
}

void ldap_value_free_len(struct berval **vals);
void ldap_value_free_len(struct berval **vals)
{
	(void)vals;
}

int ldap_msgfree(struct ldapmsg *res);
int ldap_msgfree(struct ldapmsg *res)
{
	(void)res;
	return 0;
}

int ldap_unbind(struct ldap *ld);
int ldap_unbind(struct ldap *ld)
{
	(void)ld;
	return 0;
}

char *ldap_err2string(int err);
char *ldap_err2string(int err)
{
	(void)err;
	return "LDAP is not available in this static contend";
}
