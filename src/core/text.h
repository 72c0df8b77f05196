/*
 * core/text.h (internal): tiny character helpers that parsers of several formats share.
 */
#ifndef NA_CORE_TEXT_H
#define NA_CORE_TEXT_H

/* The value of one hex digit, or -1. */
static inline int na__hex_digit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

#endif
