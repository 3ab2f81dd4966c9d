import { Body, Controller, Get, Logger, Module, Post } from '@nestjs/common';
import { IsInt, IsString, Max, MinLength } from 'class-validator';
import { Roles } from '../../src/access/access.decorators.js';

class ProbeBody {
  @IsString()
  @MinLength(1)
  name!: string;

  @IsInt()
  @Max(4)
  priority!: number;
}

/** Routes that exist only in tests, to reach the guards and the error filter from outside. */
@Controller('api/v1/_probe')
class ProbeController {
  @Get('admin')
  @Roles('admin')
  admin(): { ok: true } {
    return { ok: true };
  }

  @Post('echo')
  echo(@Body() body: ProbeBody): ProbeBody {
    return body;
  }

  /** Logs secrets nested in objects and arrays, as a careless log call would. */
  @Get('log-nested')
  logNested(): { ok: true } {
    new Logger('Probe').log(
      {
        upstream: { form: { client_secret: 'nested-secret-2' } },
        deeper: { a: { b: { c: [{ access_token: 'nested-token-5' }] } } },
        text: 'call failed: client_secret=inline-secret&scope=x',
      },
      'nested secrets',
    );
    return { ok: true };
  }

  @Get('boom')
  boom(): never {
    throw new Error('kaboom with client_secret=hunter2');
  }
}

@Module({ controllers: [ProbeController] })
export class ProbeModule {}
