/* offsetof and sizeof of struct uts_namespace as gcc lays it out against
 * this kernel's headers: built by tests/vm/run.sh on the host with kbuild,
 * read (symbol lv_offsets) by tests/vm/test_kernel_types_device.py in the
 * guest, which compares BTF's layout with it. The order is the test's
 * UTS_OFFSETS. */
#include <linux/module.h>
#include <linux/stddef.h>
#include <linux/utsname.h>

const unsigned long lv_offsets[] = {
	sizeof(struct uts_namespace),
	offsetof(struct uts_namespace, name),
	offsetof(struct uts_namespace, user_ns),
	offsetof(struct uts_namespace, ucounts),
	offsetof(struct uts_namespace, ns),
	offsetof(struct uts_namespace, name.release),
};
EXPORT_SYMBOL(lv_offsets);
MODULE_LICENSE("GPL");
