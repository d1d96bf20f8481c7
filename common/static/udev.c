/* udev.c - libudev's entry points for the static build only.
 *
 * hwloc's Linux backend asks libudev for block-device names, and Debian
 * ships no libudev.a. Without a udev context hwloc reads /run/udev/data
 * itself, so "no udev" (udev_new() returning NULL) is a state hwloc
 * already handles; the other calls are never reached with a NULL
 * context. Linked into bin/contend-static only (Makefile, STATIC=1). */
#include <stddef.h>

struct udev;
struct udev_device;

struct udev *udev_new(void);
struct udev *udev_unref(struct udev *u);
struct udev_device *udev_device_new_from_subsystem_sysname(
	struct udev *u, const char *subsystem, const char *sysname);
const char *udev_device_get_property_value(struct udev_device *d,
					   const char *key);
struct udev_device *udev_device_unref(struct udev_device *d);

struct udev *udev_new(void)
{
	return NULL;
}

struct udev *udev_unref(struct udev *u)
{
	(void)u;
	return NULL;
}

struct udev_device *udev_device_new_from_subsystem_sysname(
	struct udev *u, const char *subsystem, const char *sysname)
{
	(void)u;
	(void)subsystem;
	(void)sysname;
	return NULL;
}

const char *udev_device_get_property_value(struct udev_device *d,
					   const char *key)
{
	(void)d;
	(void)key;
	return NULL;
}

struct udev_device *udev_device_unref(struct udev_device *d)
{
	(void)d;
	return NULL;
}
