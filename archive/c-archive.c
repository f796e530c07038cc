/* c-archive.c: placeholder until the archive lands */
#include "config.h"
