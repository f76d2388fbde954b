/* A fake libnvidia-ml for the NVML meter's tests: the entry points the meter uses, with the
 * shapes of NVIDIA's nvml.h (int return codes, an opaque device handle), and nothing else
 * but two test hooks (fake_nvml_active, fake_nvml_calls).
 *
 * Driven by the file named in $FAKE_NVML_STATE, re-read at every call so a test can rewrite
 * it between reads: whitespace-separated key=value tokens. Per-GPU values are comma lists
 * (GPU i takes element i, or the last one); "-" makes that call return
 * NVML_ERROR_NOT_SUPPORTED (3) for that GPU.
 *
 *   init_rc=9              nvmlInit_v2's return code (default 0)
 *   gpus=2                 nvmlDeviceGetCount_v2 (default 1)
 *   handle_rc=0,4          nvmlDeviceGetHandleByIndex_v2's return code per GPU (default 0)
 *   energy_mj=1000,-       nvmlDeviceGetTotalEnergyConsumption (default 0)
 *   power_mw=100000        nvmlDeviceGetPowerUsage (default 100000)
 *   power_step_s=0.5 power_after_mw=300000 clock0=<CLOCK_MONOTONIC s>
 *                          power_mw before clock0 + power_step_s, power_after_mw after
 *   sm_mhz= mem_mhz= temp_c=                   nvmlDeviceGetClockInfo / GetTemperature
 *   sm_max_mhz= mem_max_mhz=                   nvmlDeviceGetMaxClockInfo (default 1980, 2619)
 *   throttle=0x4           nvmlDeviceGetCurrentClocksThrottleReasons (default 0)
 *   ecc=3                  nvmlDeviceGetTotalEccErrors, uncorrected, aggregate (default 0)
 *   retired=1              nvmlDeviceGetRetiredPages, per cause (default 0)
 *   remapped=2             nvmlDeviceGetRemappedRows, uncorrectable rows (default "-")
 *   power_limit_mw=700000  nvmlDeviceGetEnforcedPowerLimit (default 700000)
 *   ecc_mode=1             nvmlDeviceGetEccMode, current (default 1)
 * nvmlDeviceGetHandleByUUID knows "GPU-fake-<i>"; nvmlSystemGetDriverVersion says "999.1.2".
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef int nvmlReturn_t;
typedef struct nvmlDevice_st* nvmlDevice_t;

enum {
  NVML_SUCCESS = 0,
  NVML_ERROR_UNINITIALIZED = 1,
  NVML_ERROR_INVALID_ARGUMENT = 2,
  NVML_ERROR_NOT_SUPPORTED = 3,
  NVML_ERROR_NO_PERMISSION = 4,
  NVML_ERROR_INSUFFICIENT_SIZE = 7,
  NVML_ERROR_DRIVER_NOT_LOADED = 9,
};

#define EXPORT __attribute__((visibility("default")))

static int active; /* nvmlInit_v2 successes minus nvmlShutdown calls */
static int calls;  /* every entry point, for tests that check what was called */

/* The state file's text, read afresh. */
static void load(char* buf, size_t size) {
  buf[0] = '\0';
  const char* path = getenv("FAKE_NVML_STATE");
  if (!path) return;
  FILE* f = fopen(path, "r");
  if (!f) return;
  size_t n = fread(buf, 1, size - 1, f);
  buf[n] = '\0';
  fclose(f);
}

/* The value of key for GPU index: 0 found, 1 "-" (not supported), -1 absent. */
static int lookup(const char* key, unsigned index, double* out) {
  char buf[4096];
  load(buf, sizeof buf);
  size_t klen = strlen(key);
  char* save = NULL;  /* strtok_r: the meter's sampler thread calls in too */
  for (char* tok = strtok_r(buf, " \t\r\n", &save); tok; tok = strtok_r(NULL, " \t\r\n", &save)) {
    if (strncmp(tok, key, klen) != 0 || tok[klen] != '=') continue;
    char* item = tok + klen + 1;
    for (unsigned i = 0; i < index; ++i) {
      char* comma = strchr(item, ',');
      if (!comma) break;
      item = comma + 1;
    }
    if (item[0] == '-' && (item[1] == '\0' || item[1] == ',')) return 1;
    /* strtoull for hex bitmasks ("0x4"), strtod for the rest */
    if (item[0] == '0' && (item[1] == 'x' || item[1] == 'X'))
      *out = (double)strtoull(item, NULL, 16);
    else
      *out = strtod(item, NULL);
    return 0;
  }
  return -1;
}

/* NVML_SUCCESS with *out set (absent: fallback), or NVML_ERROR_NOT_SUPPORTED. */
static nvmlReturn_t value(const char* key, unsigned index, double fallback, double* out) {
  int r = lookup(key, index, out);
  if (r == 1) return NVML_ERROR_NOT_SUPPORTED;
  if (r == -1) *out = fallback;
  return NVML_SUCCESS;
}

static unsigned gpu_count(void) {
  double v = 1;
  value("gpus", 0, 1, &v);
  return (unsigned)v;
}

/* The device's index, or -1 when the handle is not one of ours or NVML is not initialised. */
static int device_index(nvmlDevice_t device, nvmlReturn_t* rc) {
  ++calls;
  uintptr_t h = (uintptr_t)device;
  if (active <= 0) {
    *rc = NVML_ERROR_UNINITIALIZED;
    return -1;
  }
  if (h == 0 || h > gpu_count()) {
    *rc = NVML_ERROR_INVALID_ARGUMENT;
    return -1;
  }
  return (int)(h - 1);
}

EXPORT int fake_nvml_active(void) { return active; }
EXPORT int fake_nvml_calls(void) { return calls; }

EXPORT nvmlReturn_t nvmlInit_v2(void) {
  ++calls;
  double rc = 0;
  value("init_rc", 0, 0, &rc);
  if ((int)rc != NVML_SUCCESS) return (int)rc;
  ++active;
  return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlShutdown(void) {
  ++calls;
  if (active <= 0) return NVML_ERROR_UNINITIALIZED;
  --active;
  return NVML_SUCCESS;
}

/* The real library's strings for these codes. */
EXPORT const char* nvmlErrorString(nvmlReturn_t rc) {
  switch (rc) {
    case NVML_SUCCESS: return "Success";
    case NVML_ERROR_UNINITIALIZED: return "Uninitialized";
    case NVML_ERROR_INVALID_ARGUMENT: return "Invalid Argument";
    case NVML_ERROR_NOT_SUPPORTED: return "Not Supported";
    case NVML_ERROR_NO_PERMISSION: return "Insufficient Permissions";
    case NVML_ERROR_INSUFFICIENT_SIZE: return "Insufficient Size";
    case NVML_ERROR_DRIVER_NOT_LOADED: return "Driver Not Loaded";
    default: return "Unknown Error";
  }
}

EXPORT nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int* count) {
  ++calls;
  if (active <= 0) return NVML_ERROR_UNINITIALIZED;
  if (!count) return NVML_ERROR_INVALID_ARGUMENT;
  *count = gpu_count();
  return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t* device) {
  ++calls;
  if (active <= 0) return NVML_ERROR_UNINITIALIZED;
  if (!device || index >= gpu_count()) return NVML_ERROR_INVALID_ARGUMENT;
  double rc = 0;
  value("handle_rc", index, 0, &rc);
  if ((int)rc != NVML_SUCCESS) return (int)rc;
  *device = (nvmlDevice_t)(uintptr_t)(index + 1);
  return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetTotalEnergyConsumption(nvmlDevice_t device, unsigned long long* energy) {
  nvmlReturn_t rc = NVML_SUCCESS;
  int i = device_index(device, &rc);
  if (i < 0) return rc;
  double v = 0;
  rc = value("energy_mj", (unsigned)i, 0, &v);
  if (rc == NVML_SUCCESS) *energy = (unsigned long long)v;
  return rc;
}

EXPORT nvmlReturn_t nvmlDeviceGetPowerUsage(nvmlDevice_t device, unsigned int* power) {
  nvmlReturn_t rc = NVML_SUCCESS;
  int i = device_index(device, &rc);
  if (i < 0) return rc;
  double v = 0, step = 0, clock0 = 0;
  rc = value("power_mw", (unsigned)i, 100000, &v);
  if (rc != NVML_SUCCESS) return rc;
  if (lookup("power_step_s", (unsigned)i, &step) == 0 && lookup("clock0", 0, &clock0) == 0) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    double now = (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
    if (now - clock0 >= step) value("power_after_mw", (unsigned)i, v, &v);
  }
  *power = (unsigned int)v;
  return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetClockInfo(nvmlDevice_t device, int type, unsigned int* clock) {
  nvmlReturn_t rc = NVML_SUCCESS;
  int i = device_index(device, &rc);
  if (i < 0) return rc;
  double v = 0;
  if (type == 1) rc = value("sm_mhz", (unsigned)i, 1980, &v);       /* NVML_CLOCK_SM */
  else if (type == 2) rc = value("mem_mhz", (unsigned)i, 2619, &v);  /* NVML_CLOCK_MEM */
  else return NVML_ERROR_INVALID_ARGUMENT;
  if (rc == NVML_SUCCESS) *clock = (unsigned int)v;
  return rc;
}

EXPORT nvmlReturn_t nvmlDeviceGetMaxClockInfo(nvmlDevice_t device, int type, unsigned int* clock) {
  nvmlReturn_t rc = NVML_SUCCESS;
  int i = device_index(device, &rc);
  if (i < 0) return rc;
  double v = 0;
  if (type == 1) rc = value("sm_max_mhz", (unsigned)i, 1980, &v); /* NVML_CLOCK_SM */
  else if (type == 2) rc = value("mem_max_mhz", (unsigned)i, 2619, &v);
  else return NVML_ERROR_INVALID_ARGUMENT;
  if (rc == NVML_SUCCESS) *clock = (unsigned int)v;
  return rc;
}

EXPORT nvmlReturn_t nvmlDeviceGetTemperature(nvmlDevice_t device, int sensor, unsigned int* temp) {
  nvmlReturn_t rc = NVML_SUCCESS;
  int i = device_index(device, &rc);
  if (i < 0) return rc;
  if (sensor != 0) return NVML_ERROR_INVALID_ARGUMENT; /* NVML_TEMPERATURE_GPU */
  double v = 0;
  rc = value("temp_c", (unsigned)i, 40, &v);
  if (rc == NVML_SUCCESS) *temp = (unsigned int)v;
  return rc;
}

EXPORT nvmlReturn_t nvmlDeviceGetCurrentClocksThrottleReasons(nvmlDevice_t device, unsigned long long* reasons) {
  nvmlReturn_t rc = NVML_SUCCESS;
  int i = device_index(device, &rc);
  if (i < 0) return rc;
  double v = 0;
  rc = value("throttle", (unsigned)i, 0, &v);
  if (rc == NVML_SUCCESS) *reasons = (unsigned long long)v;
  return rc;
}

EXPORT nvmlReturn_t nvmlDeviceGetTotalEccErrors(nvmlDevice_t device, int error_type, int counter_type,
                                                unsigned long long* count) {
  nvmlReturn_t rc = NVML_SUCCESS;
  int i = device_index(device, &rc);
  if (i < 0) return rc;
  /* Only what the meter asks for: uncorrected (1), aggregate (1). */
  if (error_type != 1 || counter_type != 1) return NVML_ERROR_INVALID_ARGUMENT;
  double v = 0;
  rc = value("ecc", (unsigned)i, 0, &v);
  if (rc == NVML_SUCCESS) *count = (unsigned long long)v;
  return rc;
}

/* Like the real one: *count is the buffer's size on entry and the number of pages on return;
 * a buffer too small gives NVML_ERROR_INSUFFICIENT_SIZE with *count set. Both causes (0:
 * multiple single-bit, 1: double-bit) report the same number. */
EXPORT nvmlReturn_t nvmlDeviceGetRetiredPages(nvmlDevice_t device, int cause, unsigned int* count,
                                              unsigned long long* addresses) {
  nvmlReturn_t rc = NVML_SUCCESS;
  int i = device_index(device, &rc);
  if (i < 0) return rc;
  if (!count || (cause != 0 && cause != 1)) return NVML_ERROR_INVALID_ARGUMENT;
  double v = 0;
  rc = value("retired", (unsigned)i, 0, &v);
  if (rc != NVML_SUCCESS) return rc;
  unsigned n = (unsigned)v, room = *count;
  *count = n;
  if (room < n) return NVML_ERROR_INSUFFICIENT_SIZE;
  for (unsigned k = 0; addresses && k < n; ++k) addresses[k] = 0x1000ull * (k + 1);
  return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetRemappedRows(nvmlDevice_t device, unsigned int* corrected, unsigned int* uncorrected,
                                              unsigned int* pending, unsigned int* failure) {
  nvmlReturn_t rc = NVML_SUCCESS;
  int i = device_index(device, &rc);
  if (i < 0) return rc;
  if (!corrected || !uncorrected || !pending || !failure) return NVML_ERROR_INVALID_ARGUMENT;
  double v = 0;
  if (lookup("remapped", (unsigned)i, &v) != 0) return NVML_ERROR_NOT_SUPPORTED;
  *corrected = 0;
  *uncorrected = (unsigned int)v;
  *pending = 0;
  *failure = 0;
  return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetHandleByUUID(const char* uuid, nvmlDevice_t* device) {
  ++calls;
  if (active <= 0) return NVML_ERROR_UNINITIALIZED;
  unsigned i = 0;
  if (!uuid || !device || sscanf(uuid, "GPU-fake-%u", &i) != 1 || i >= gpu_count()) return NVML_ERROR_INVALID_ARGUMENT;
  *device = (nvmlDevice_t)(uintptr_t)(i + 1);
  return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetEnforcedPowerLimit(nvmlDevice_t device, unsigned int* limit) {
  nvmlReturn_t rc = NVML_SUCCESS;
  int i = device_index(device, &rc);
  if (i < 0) return rc;
  double v = 0;
  rc = value("power_limit_mw", (unsigned)i, 700000, &v);
  if (rc == NVML_SUCCESS) *limit = (unsigned int)v;
  return rc;
}

EXPORT nvmlReturn_t nvmlDeviceGetEccMode(nvmlDevice_t device, int* current, int* pending) {
  nvmlReturn_t rc = NVML_SUCCESS;
  int i = device_index(device, &rc);
  if (i < 0) return rc;
  double v = 0;
  rc = value("ecc_mode", (unsigned)i, 1, &v);
  if (rc == NVML_SUCCESS) *current = *pending = (int)v;
  return rc;
}

EXPORT nvmlReturn_t nvmlSystemGetDriverVersion(char* version, unsigned int length) {
  ++calls;
  if (active <= 0) return NVML_ERROR_UNINITIALIZED;
  if (!version || length < 8) return NVML_ERROR_INSUFFICIENT_SIZE;
  snprintf(version, length, "%s", "999.1.2");
  return NVML_SUCCESS;
}
