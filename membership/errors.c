/*
 * errors.c — hs_strerror(), hs_err_name() and the version functions: the
 * tables behind HS_ERRNO_MAP in the public header.
 */
#include "hearsay.h"

/* Codes are 0, -1, -2, ... without gaps, in map order: HS_ERR_LAST_ (and
 * with it HS_REASONS, the length of the "rejected" statistic) is derived
 * from the map's length, which is only right if so. */
enum {
#define HS_ERR_POS_(name, val, msg) HS_ERR_POS_##name,
    HS_ERRNO_MAP(HS_ERR_POS_)
#undef HS_ERR_POS_
};
#define HS_ERR_CHECK_(name, val, msg)                                          \
    _Static_assert((val) == -(int)HS_ERR_POS_##name,                           \
                   "error codes must be 0, -1, -2, ... in map order: " #name);
HS_ERRNO_MAP(HS_ERR_CHECK_)
#undef HS_ERR_CHECK_

HS_EXPORT const char *hs_strerror(int err)
{
    switch (err) {
#define HS_ERR_MSG_(name, val, msg)                                            \
    case (val):                                                                \
        return msg;
        HS_ERRNO_MAP(HS_ERR_MSG_)
#undef HS_ERR_MSG_
    default:
        return "unknown error";
    }
}

HS_EXPORT const char *hs_err_name(int err)
{
    switch (err) {
#define HS_ERR_NAME_(name, val, msg)                                           \
    case (val):                                                                \
        return #name;
        HS_ERRNO_MAP(HS_ERR_NAME_)
#undef HS_ERR_NAME_
    default:
        return "EUNKNOWN";
    }
}

#define HS_STR_(x) #x
#define HS_XSTR_(x) HS_STR_(x)

HS_EXPORT const char *hs_version_string(void)
{
    return HS_XSTR_(HS_VERSION_MAJOR) "." HS_XSTR_(
        HS_VERSION_MINOR) "." HS_XSTR_(HS_VERSION_PATCH);
}

HS_EXPORT unsigned hs_version(void)
{
    return HS_VERSION_HEX;
}
