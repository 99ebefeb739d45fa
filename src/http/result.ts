/** A handler's answer when its status is decided at run time (e.g. health's 503). */
export class HttpResult<T> {
  constructor(
    readonly status: number,
    readonly body: T,
  ) {}
}
