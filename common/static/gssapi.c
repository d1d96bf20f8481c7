/* gssapi.c - GSSAPI's entry points for the static build's libpq only.
 *
 * Debian's libpq.a is built with GSSAPI, and Debian ships no static
 * Kerberos library. These stand for "no credentials, no mechanism": libpq
 * asks gss_acquire_cred whether a credential cache exists before it
 * tries GSS encryption, gets a failure and goes on without it, as it does
 * on a machine with no Kerberos ticket; a server that demands GSS
 * authentication gets a clear GSSAPI error. Every other call is only
 * reached after a success these never give. Linked into
 * bin/contend-static only (Makefile, STATIC=1 with PostgreSQL).
 * Parameter lists follow RFC 2744 (MIT krb5's gssapi.h) with its handle
 * types as pointers. */
#include <stddef.h>
#include <stdint.h>

typedef uint32_t OM_uint32;
typedef struct {
	size_t length;
	void *value;
} gss_buffer_desc;
typedef struct {
	OM_uint32 length;
	void *elements;
} gss_OID_desc;

#define GSS_S_COMPLETE 0u
#define GSS_S_FAILURE (13u << 16)
#define UNAVAILABLE "GSSAPI is not available in this static contend"

static gss_OID_desc hostbased_service;
gss_OID_desc *GSS_C_NT_HOSTBASED_SERVICE = &hostbased_service;

static OM_uint32 fail(OM_uint32 *minor)
{
	if (minor)
		*minor = 0;
	return GSS_S_FAILURE;
}

static OM_uint32 done(OM_uint32 *minor)
{
	if (minor)
		*minor = 0;
	return GSS_S_COMPLETE;
}

OM_uint32 gss_acquire_cred(OM_uint32 *minor, void *name, OM_uint32 time_req,
			   void *mechs, int usage, void **cred,
			   void **actual_mechs, OM_uint32 *time_rec);
OM_uint32 gss_acquire_cred(OM_uint32 *minor, void *name, OM_uint32 time_req,
			   void *mechs, int usage, void **cred,
			   void **actual_mechs, OM_uint32 *time_rec)
{
	(void)name, (void)time_req, (void)mechs, (void)usage;
	if (cred)
		*cred = NULL;
	if (actual_mechs)
		*actual_mechs = NULL;
	if (time_rec)
		*time_rec = 0;
	return fail(minor);
}

OM_uint32 gss_import_name(OM_uint32 *minor, gss_buffer_desc *in, void *type,
			  void **out);
OM_uint32 gss_import_name(OM_uint32 *minor, gss_buffer_desc *in, void *type,
			  void **out)
{
	(void)in, (void)type;
	if (out)
		*out = NULL;
	return fail(minor);
}

OM_uint32 gss_init_sec_context(OM_uint32 *minor, void *cred, void **ctx,
			       void *target, void *mech, OM_uint32 flags,
			       OM_uint32 time_req, void *bindings,
			       gss_buffer_desc *in, void **actual_mech,
			       gss_buffer_desc *out, OM_uint32 *ret_flags,
			       OM_uint32 *time_rec);
OM_uint32 gss_init_sec_context(OM_uint32 *minor, void *cred, void **ctx,
			       void *target, void *mech, OM_uint32 flags,
			       OM_uint32 time_req, void *bindings,
			       gss_buffer_desc *in, void **actual_mech,
			       gss_buffer_desc *out, OM_uint32 *ret_flags,
			       OM_uint32 *time_rec)
{
	(void)cred, (void)ctx, (void)target, (void)mech, (void)flags;
	(void)time_req, (void)bindings, (void)in, (void)actual_mech;
	(void)ret_flags, (void)time_rec;
	if (out)
		*out = (gss_buffer_desc){0, NULL};
	return fail(minor);
}

/* libpq prints every message gss_display_status gives until the message
 * context is 0, then releases each buffer. */
OM_uint32 gss_display_status(OM_uint32 *minor, OM_uint32 status, int type,
			     void *mech, OM_uint32 *msg_ctx,
			     gss_buffer_desc *out);
OM_uint32 gss_display_status(OM_uint32 *minor, OM_uint32 status, int type,
			     void *mech, OM_uint32 *msg_ctx,
			     gss_buffer_desc *out)
{
	(void)status, (void)type, (void)mech;
	if (msg_ctx)
		*msg_ctx = 0;
	if (out)
		*out = (gss_buffer_desc){sizeof UNAVAILABLE - 1,
					 (void *)UNAVAILABLE};
	return done(minor);
}

OM_uint32 gss_release_buffer(OM_uint32 *minor, gss_buffer_desc *buf);
OM_uint32 gss_release_buffer(OM_uint32 *minor, gss_buffer_desc *buf)
{
	if (buf)
		*buf = (gss_buffer_desc){0, NULL};
	return done(minor);
}

OM_uint32 gss_delete_sec_context(OM_uint32 *minor, void **ctx,
				 gss_buffer_desc *out);
OM_uint32 gss_delete_sec_context(OM_uint32 *minor, void **ctx,
				 gss_buffer_desc *out)
{
	if (ctx)
		*ctx = NULL;
	if (out)
		*out = (gss_buffer_desc){0, NULL};
	return done(minor);
}

OM_uint32 gss_release_cred(OM_uint32 *minor, void **cred);
OM_uint32 gss_release_cred(OM_uint32 *minor, void **cred)
{
	if (cred)
		*cred = NULL;
	return done(minor);
}

OM_uint32 gss_release_name(OM_uint32 *minor, void **name);
OM_uint32 gss_release_name(OM_uint32 *minor, void **name)
{
	if (name)
		*name = NULL;
	return done(minor);
}

OM_uint32 gss_wrap(OM_uint32 *minor, void *ctx, int conf_req, OM_uint32 qop,
		   gss_buffer_desc *in, int *conf_state, gss_buffer_desc *out);
OM_uint32 gss_wrap(OM_uint32 *minor, void *ctx, int conf_req, OM_uint32 qop,
		   gss_buffer_desc *in, int *conf_state, gss_buffer_desc *out)
{
	(void)ctx, (void)conf_req, (void)qop, (void)in, (void)conf_state;
	if (out)
		*out = (gss_buffer_desc){0, NULL};
	return fail(minor);
}

OM_uint32 gss_unwrap(OM_uint32 *minor, void *ctx, gss_buffer_desc *in,
		     gss_buffer_desc *out, int *conf_state, OM_uint32 *qop);
OM_uint32 gss_unwrap(OM_uint32 *minor, void *ctx, gss_buffer_desc *in,
		     gss_buffer_desc *out, int *conf_state, OM_uint32 *qop)
{
	(void)ctx, (void)in, (void)conf_state, (void)qop;
	if (out)
		*out = (gss_buffer_desc){0, NULL};
	return fail(minor);
}

OM_uint32 gss_wrap_size_limit(OM_uint32 *minor, void *ctx, int conf_req,
			      OM_uint32 qop, OM_uint32 size, OM_uint32 *max);
OM_uint32 gss_wrap_size_limit(OM_uint32 *minor, void *ctx, int conf_req,
			      OM_uint32 qop, OM_uint32 size, OM_uint32 *max)
{
	(void)ctx, (void)conf_req, (void)qop, (void)size;
	if (max)
		*max = 0;
	return fail(minor);
}
